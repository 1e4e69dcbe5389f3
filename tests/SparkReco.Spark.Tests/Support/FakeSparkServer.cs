using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spark.Connect;

namespace SparkReco.Spark.Tests.Support;

/// <summary>One request the server received, with the headers it came with.</summary>
internal sealed record ReceivedCall(string Method, IMessage Request, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// An in-process Spark Connect server for tests: Kestrel on 127.0.0.1 with a random port, HTTP/2 without TLS, serving the
/// project's own service subset. It records every call; each test scripts the answers it needs through the handlers,
/// and the defaults answer like a Spark server that runs commands and knows no query (a test that sends one must say
/// what it returns).
/// </summary>
internal sealed class FakeSparkServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeSparkServer(WebApplication app, FakeSparkService service, int port)
    {
        _app = app;
        Service = service;
        Port = port;
    }

    public FakeSparkService Service { get; }
    public int Port { get; }
    public string Remote => $"sc://127.0.0.1:{Port}";

    public static async Task<FakeSparkServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = 128 * 1024 * 1024;
            o.EnableDetailedErrors = false;
        });
        var service = new FakeSparkService();
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<FakeSparkService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeSparkServer(app, service, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The scripted service. Handlers are set by the test before the engine connects.</summary>
internal sealed class FakeSparkService : SparkConnectService.SparkConnectServiceBase
{
    public ConcurrentQueue<ReceivedCall> Calls { get; } = new();
    public ConcurrentDictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);
    public string SparkVersion { get; set; } = "4.0.0";

    /// <summary>Settings the server keeps whatever a client sets (fixed by an administrator).</summary>
    public HashSet<string> FixedSettings { get; } = new(StringComparer.Ordinal);

    /// <summary>Answers a root relation (a query): the Arrow IPC streams of its batches, one per ArrowBatch.</summary>
    public Func<string, IReadOnlyList<byte[]>> Query { get; set; } = sql => throw new RpcException(new Status(StatusCode.Unimplemented, "no answer scripted for query: " + sql));

    /// <summary>Replaces the whole ExecutePlan answer (streams, errors, waits); null = the default behaviour.</summary>
    public Func<ExecutePlanRequest, IServerStreamWriter<ExecutePlanResponse>, ServerCallContext, Task>? Execute { get; set; }

    public Func<ReattachExecuteRequest, IServerStreamWriter<ExecutePlanResponse>, ServerCallContext, Task>? Reattach { get; set; }

    public Func<FetchErrorDetailsRequest, FetchErrorDetailsResponse>? ErrorDetails { get; set; }

    /// <summary>Answers AnalyzePlan.schema for a SQL relation.</summary>
    public Func<string, DataType>? AnalyzeSchema { get; set; }

    /// <summary>Answers AnalyzePlan.schema for a Read relation over a data source (files on a lake); may throw a Spark error.</summary>
    public Func<Read.Types.DataSource, DataType>? AnalyzeRead { get; set; }

    /// <summary>Config calls that fail with UNAVAILABLE before one succeeds (a server that is still starting).</summary>
    public int UnavailableConfigCalls { get; set; }

    /// <summary>Called for each WriteOperation; the default creates the target folder as a Spark write would.</summary>
    public Action<WriteOperation> Write { get; set; } = write => Directory.CreateDirectory(write.Path);

    public IEnumerable<T> Requests<T>() where T : IMessage => Calls.Select(c => c.Request).OfType<T>();

    private void Record(IMessage request, ServerCallContext context) =>
        Calls.Enqueue(new ReceivedCall(request.Descriptor.Name, request,
            context.RequestHeaders.Where(h => !h.IsBinary).GroupBy(h => h.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal)));

    public override Task<ConfigResponse> Config(ConfigRequest request, ServerCallContext context)
    {
        Record(request, context);
        if (UnavailableConfigCalls > 0)
        {
            UnavailableConfigCalls--;
            throw new RpcException(new Status(StatusCode.Unavailable, "server starting"));
        }
        var response = new ConfigResponse { SessionId = request.SessionId };
        switch (request.Operation.OpTypeCase)
        {
            case ConfigRequest.Types.Operation.OpTypeOneofCase.Set:
                foreach (var pair in request.Operation.Set.Pairs.Where(p => !FixedSettings.Contains(p.Key))) Settings[pair.Key] = pair.Value;
                break;
            case ConfigRequest.Types.Operation.OpTypeOneofCase.Get:
                foreach (var key in request.Operation.Get.Keys)
                    response.Pairs.Add(Settings.TryGetValue(key, out var value) ? new KeyValue { Key = key, Value = value } : new KeyValue { Key = key });
                break;
        }
        return Task.FromResult(response);
    }

    public override Task<AnalyzePlanResponse> AnalyzePlan(AnalyzePlanRequest request, ServerCallContext context)
    {
        Record(request, context);
        var response = new AnalyzePlanResponse { SessionId = request.SessionId };
        if (request.AnalyzeCase == AnalyzePlanRequest.AnalyzeOneofCase.SparkVersion)
            response.SparkVersion = new AnalyzePlanResponse.Types.SparkVersion { Version = SparkVersion };
        else if (request.AnalyzeCase == AnalyzePlanRequest.AnalyzeOneofCase.Schema && request.Schema.Plan.Root.RelTypeCase == Relation.RelTypeOneofCase.Read && AnalyzeRead is not null)
            response.Schema = new AnalyzePlanResponse.Types.Schema { Schema_ = AnalyzeRead(request.Schema.Plan.Root.Read.DataSource) };
        else if (request.AnalyzeCase == AnalyzePlanRequest.AnalyzeOneofCase.Schema && request.Schema.Plan.Root.RelTypeCase == Relation.RelTypeOneofCase.Sql && AnalyzeSchema is not null)
            response.Schema = new AnalyzePlanResponse.Types.Schema { Schema_ = AnalyzeSchema(request.Schema.Plan.Root.Sql.Query) };
        else
            throw new RpcException(new Status(StatusCode.Unimplemented, "only spark_version is scripted"));
        return Task.FromResult(response);
    }

    public override async Task ExecutePlan(ExecutePlanRequest request, IServerStreamWriter<ExecutePlanResponse> responseStream, ServerCallContext context)
    {
        Record(request, context);
        if (Execute is not null)
        {
            await Execute(request, responseStream, context);
            return;
        }
        foreach (var response in DefaultAnswer(request)) await responseStream.WriteAsync(response);
    }

    /// <summary>What a Spark server answers: commands run (sql_command_result), queries as Arrow batches, then result_complete.</summary>
    public IEnumerable<ExecutePlanResponse> DefaultAnswer(ExecutePlanRequest request)
    {
        var answers = new List<ExecutePlanResponse>();
        if (request.Plan.OpTypeCase == Plan.OpTypeOneofCase.Command)
        {
            var command = request.Plan.Command;
            switch (command.CommandTypeCase)
            {
                case Command.CommandTypeOneofCase.SqlCommand:
                    answers.Add(new ExecutePlanResponse { SqlCommandResult = new ExecutePlanResponse.Types.SqlCommandResult { Relation = new Relation { Sql = new SQL { Query = command.SqlCommand.Sql } } } });
                    break;
                case Command.CommandTypeOneofCase.WriteOperation:
                    Write(command.WriteOperation);
                    break;
            }
        }
        else if (request.Plan.Root.RelTypeCase != Relation.RelTypeOneofCase.Sql)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "only SQL relations are answered as queries"));
        }
        else
        {
            foreach (var batch in Query(request.Plan.Root.Sql.Query))
                answers.Add(new ExecutePlanResponse { ArrowBatch = new ExecutePlanResponse.Types.ArrowBatch { Data = ByteString.CopyFrom(batch), RowCount = ArrowIpc.RowCount(batch) } });
        }
        answers.Add(new ExecutePlanResponse { ResultComplete = new ExecutePlanResponse.Types.ResultComplete() });
        foreach (var answer in answers)
        {
            answer.SessionId = request.SessionId;
            answer.OperationId = request.OperationId;
            answer.ResponseId = Guid.NewGuid().ToString("D");
        }
        return answers;
    }

    public override async Task ReattachExecute(ReattachExecuteRequest request, IServerStreamWriter<ExecutePlanResponse> responseStream, ServerCallContext context)
    {
        Record(request, context);
        if (Reattach is null) throw new RpcException(new Status(StatusCode.Internal, "[INVALID_HANDLE.OPERATION_NOT_FOUND] no reattach scripted"));
        await Reattach(request, responseStream, context);
    }

    public override Task<ReleaseExecuteResponse> ReleaseExecute(ReleaseExecuteRequest request, ServerCallContext context)
    {
        Record(request, context);
        return Task.FromResult(new ReleaseExecuteResponse { SessionId = request.SessionId, OperationId = request.OperationId });
    }

    public override Task<InterruptResponse> Interrupt(InterruptRequest request, ServerCallContext context)
    {
        Record(request, context);
        var response = new InterruptResponse { SessionId = request.SessionId };
        if (request.InterruptCase == InterruptRequest.InterruptOneofCase.OperationId) response.InterruptedIds.Add(request.OperationId);
        return Task.FromResult(response);
    }

    public override Task<ReleaseSessionResponse> ReleaseSession(ReleaseSessionRequest request, ServerCallContext context)
    {
        Record(request, context);
        return Task.FromResult(new ReleaseSessionResponse { SessionId = request.SessionId });
    }

    public override Task<FetchErrorDetailsResponse> FetchErrorDetails(FetchErrorDetailsRequest request, ServerCallContext context)
    {
        Record(request, context);
        if (ErrorDetails is null) throw new RpcException(new Status(StatusCode.Unimplemented, "FetchErrorDetails is not available (Spark 3.5)"));
        return Task.FromResult(ErrorDetails(request));
    }
}
