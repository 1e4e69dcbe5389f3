using System.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Spark.Connect;
using SparkReco.Core.Errors;

namespace SparkReco.Engine.Spark.Connect;

/// <summary>
/// The gRPC side of the Spark Connect protocol for one session: every request carries the session id (a UUID), the user
/// context, a client type naming SparkReco and its version, and the bearer token header when one is set. Executions are
/// reattachable: a stream that ends without <c>result_complete</c> (servers cut long streams) is resumed with
/// ReattachExecute from the last response id, and every finished execution is released (ReleaseExecute release_all).
/// </summary>
internal sealed class SparkConnectClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly SparkConnectService.SparkConnectServiceClient _client;
    private readonly Metadata _headers = [];
    private readonly UserContext _user;
    private readonly SparkRetryPolicy _retry;
    private readonly ILogger _logger;
    private readonly string _address;

    /// <summary>Reattaches in a row that brought no new response before the execution is given up as lost.</summary>
    private const int MaxFruitlessReattaches = 10;

    public SparkConnectClient(SparkRemote remote, SparkRetryPolicy retry, ILogger logger)
    {
        _retry = retry;
        _logger = logger;
        _address = remote.ToString();
        SessionId = remote.SessionId ?? Guid.NewGuid().ToString("D");
        _user = new UserContext { UserId = remote.UserId, UserName = remote.UserId };
        var version = typeof(SparkConnectClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";
        ClientType = $"SparkReco/{version.Split('+')[0]}" + (remote.UserAgent is null ? "" : $" {remote.UserAgent}");
        // The token goes into a header on every call rather than call credentials, which grpc-dotnet drops on a plain-text
        // channel; SparkRemote.Parse only allows plain text with a token towards a loopback address (a local tunnel).
        if (remote.Token is not null) _headers.Add("authorization", "Bearer " + remote.Token);
        foreach (var (name, value) in remote.Headers) _headers.Add(name, value);
        _channel = GrpcChannel.ForAddress(remote.Address, new GrpcChannelOptions
        {
            // Arrow batches of a collected result can exceed the 4 MB default; Spark's own clients allow 128 MB.
            MaxReceiveMessageSize = 128 * 1024 * 1024,
            MaxSendMessageSize = 128 * 1024 * 1024,
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
                ConnectTimeout = TimeSpan.FromSeconds(10),
            },
        });
        _client = new SparkConnectService.SparkConnectServiceClient(_channel);
    }

    public string SessionId { get; }
    public string ClientType { get; }

    /// <summary>The last call failed because the server could not be reached, after every retry.</summary>
    public bool ServerUnreachable { get; private set; }

    /// <summary>
    /// Runs <paramref name="plan"/> and returns its responses (schema, Arrow batches, SQL command results), without
    /// <c>result_complete</c>. <paramref name="what"/> says what ran, for messages.
    /// </summary>
    public async Task<IReadOnlyList<ExecutePlanResponse>> ExecuteAsync(Plan plan, string what, CancellationToken ct)
    {
        var operationId = Guid.NewGuid().ToString("D");
        var request = new ExecutePlanRequest
        {
            SessionId = SessionId,
            UserContext = _user,
            OperationId = operationId,
            Plan = plan,
            ClientType = ClientType,
        };
        request.RequestOptions.Add(new ExecutePlanRequest.Types.RequestOption { ReattachOptions = new ReattachOptions { Reattachable = true } });

        var responses = new List<ExecutePlanResponse>();
        string? lastResponseId = null;
        var accepted = false; // the server knows the operation: from now on only ReattachExecute may continue it
        var failures = 0;
        var fruitless = 0;
        try
        {
            while (true)
            {
                try
                {
                    using var call = accepted
                        ? _client.ReattachExecute(new ReattachExecuteRequest
                        {
                            SessionId = SessionId,
                            UserContext = _user,
                            OperationId = operationId,
                            ClientType = ClientType,
                            LastResponseId = lastResponseId ?? "",
                        }.WithoutEmptyLastResponse(), _headers, cancellationToken: ct)
                        : _client.ExecutePlan(request, _headers, cancellationToken: ct);
                    var complete = false;
                    var progressed = false;
                    while (await call.ResponseStream.MoveNext(ct))
                    {
                        var response = call.ResponseStream.Current;
                        accepted = true;
                        progressed = true;
                        failures = 0;
                        if (response.ResponseId.Length > 0) lastResponseId = response.ResponseId;
                        if (response.ResponseTypeCase == ExecutePlanResponse.ResponseTypeOneofCase.ResultComplete)
                        {
                            complete = true;
                            continue;
                        }
                        responses.Add(response);
                    }
                    if (complete) break;
                    // The server closed the stream before the result was complete (it cuts long streams): reattach.
                    accepted = true;
                    fruitless = progressed ? 0 : fruitless + 1;
                    if (fruitless > MaxFruitlessReattaches)
                        throw new EngineException($"Spark Connect at {_address}: the execution of {what} (operation {operationId}) ended {fruitless} times in a row without a result and without progress; the server may have lost it.", transient: true);
                    _logger.LogDebug("Spark Connect stream of operation {Operation} ended before result_complete; reattaching after response {Response}", operationId, lastResponseId);
                }
                catch (RpcException e) when (!ct.IsCancellationRequested && SparkErrors.IsTransient(e) && failures + 1 < _retry.MaxAttempts)
                {
                    failures++;
                    var wait = _retry.Backoff(failures);
                    _logger.LogWarning("Spark Connect at {Address} unavailable ({Status}); try {Try} of {Max} in {Wait} ms", _address, e.Status.Detail, failures + 1, _retry.MaxAttempts, (int)wait.TotalMilliseconds);
                    await Task.Delay(wait, ct);
                }
                catch (RpcException e) when (!accepted && !ct.IsCancellationRequested && e.Status.Detail.Contains("OPERATION_ALREADY_EXISTS", StringComparison.Ordinal))
                {
                    // A retried ExecutePlan whose first try did reach the server: continue that execution instead.
                    accepted = true;
                }
            }
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException)
        {
            await InterruptAsync(operationId);
            throw new OperationCanceledException($"Spark Connect: {what} was cancelled; the server was asked to interrupt operation {operationId}.", e, ct);
        }
        catch (RpcException e)
        {
            throw await ToEngineExceptionAsync(e, what);
        }
        if (accepted) await ReleaseAsync(operationId);
        return responses;
    }

    /// <summary>Asks the server to stop an operation (best effort: the run is being cancelled anyway).</summary>
    public async Task InterruptAsync(string operationId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _client.InterruptAsync(new InterruptRequest
            {
                SessionId = SessionId,
                UserContext = _user,
                ClientType = ClientType,
                InterruptType = InterruptRequest.Types.InterruptType.OperationId,
                OperationId = operationId,
            }, _headers, cancellationToken: timeout.Token);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            _logger.LogWarning("Spark Connect: could not interrupt operation {Operation}: {Message}", operationId, e.Message);
        }
    }

    private async Task ReleaseAsync(string operationId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.ReleaseExecuteAsync(new ReleaseExecuteRequest
            {
                SessionId = SessionId,
                UserContext = _user,
                OperationId = operationId,
                ClientType = ClientType,
                ReleaseAll = new ReleaseExecuteRequest.Types.ReleaseAll(),
            }, _headers, cancellationToken: timeout.Token);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // The server releases abandoned executions itself after a timeout; nothing is lost but buffer memory.
            _logger.LogDebug("Spark Connect: releasing operation {Operation} failed: {Message}", operationId, e.Message);
        }
    }

    public Task<AnalyzePlanResponse> AnalyzeAsync(AnalyzePlanRequest request, string what, CancellationToken ct)
    {
        request.SessionId = SessionId;
        request.UserContext = _user;
        request.ClientType = ClientType;
        return UnaryAsync(() => _client.AnalyzePlanAsync(request, _headers, cancellationToken: ct), what, ct);
    }

    public async Task SetConfigAsync(IReadOnlyList<KeyValuePair<string, string>> pairs, CancellationToken ct)
    {
        var set = new ConfigRequest.Types.Set();
        foreach (var (key, value) in pairs) set.Pairs.Add(new KeyValue { Key = key, Value = value });
        var request = new ConfigRequest { SessionId = SessionId, UserContext = _user, ClientType = ClientType, Operation = new ConfigRequest.Types.Operation { Set = set } };
        var response = await UnaryAsync(() => _client.ConfigAsync(request, _headers, cancellationToken: ct), "setting " + string.Join(", ", pairs.Select(p => p.Key)), ct);
        foreach (var warning in response.Warnings) _logger.LogWarning("Spark Connect config: {Warning}", warning);
    }

    public async Task<IReadOnlyDictionary<string, string?>> GetConfigAsync(IReadOnlyList<string> keys, CancellationToken ct)
    {
        var get = new ConfigRequest.Types.Get();
        get.Keys.AddRange(keys);
        var request = new ConfigRequest { SessionId = SessionId, UserContext = _user, ClientType = ClientType, Operation = new ConfigRequest.Types.Operation { Get = get } };
        var response = await UnaryAsync(() => _client.ConfigAsync(request, _headers, cancellationToken: ct), "reading " + string.Join(", ", keys), ct);
        return response.Pairs.ToDictionary(p => p.Key, p => p.HasValue ? p.Value : null, StringComparer.Ordinal);
    }

    /// <summary>Ends the server-side session (4.0+). A 3.5 server answers UNIMPLEMENTED: its sessions time out on their own.</summary>
    public async Task ReleaseSessionAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _client.ReleaseSessionAsync(new ReleaseSessionRequest { SessionId = SessionId, UserContext = _user, ClientType = ClientType }, _headers, cancellationToken: timeout.Token);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            _logger.LogDebug("Spark Connect: ReleaseSession not done ({Message}); the server times the session out", e.Message);
        }
    }

    private async Task<T> UnaryAsync<T>(Func<AsyncUnaryCall<T>> call, string what, CancellationToken ct)
    {
        for (var failures = 0; ; failures++)
        {
            try
            {
                using var pending = call();
                return await pending.ResponseAsync;
            }
            catch (RpcException e) when (!ct.IsCancellationRequested && SparkErrors.IsTransient(e) && failures + 1 < _retry.MaxAttempts)
            {
                var wait = _retry.Backoff(failures + 1);
                _logger.LogWarning("Spark Connect at {Address} unavailable ({Status}); try {Try} of {Max} in {Wait} ms", _address, e.Status.Detail, failures + 2, _retry.MaxAttempts, (int)wait.TotalMilliseconds);
                await Task.Delay(wait, ct);
            }
            catch (RpcException e) when (ct.IsCancellationRequested)
            {
                throw new OperationCanceledException($"Spark Connect: {what} was cancelled.", e, ct);
            }
            catch (RpcException e)
            {
                throw await ToEngineExceptionAsync(e, what);
            }
        }
    }

    /// <summary>The engine exception for a failed call, enriched with the server's cause chain when it kept one (errorId).</summary>
    private async Task<EngineException> ToEngineExceptionAsync(RpcException e, string what)
    {
        FetchErrorDetailsResponse? details = null;
        if (SparkErrors.ErrorId(e) is { } errorId)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                details = await _client.FetchErrorDetailsAsync(new FetchErrorDetailsRequest
                {
                    SessionId = SessionId,
                    UserContext = _user,
                    ClientType = ClientType,
                    ErrorId = errorId,
                }, _headers, cancellationToken: timeout.Token);
            }
            catch (RpcException fetch) when (fetch.StatusCode == StatusCode.Unimplemented)
            {
                // Servers before FetchErrorDetails (3.4): the ErrorInfo of the status is all there is.
            }
            catch (Exception fetch) when (fetch is RpcException or OperationCanceledException)
            {
                _logger.LogDebug("Spark Connect: FetchErrorDetails failed: {Message}", fetch.Message);
            }
        }
        var hint = e.StatusCode == StatusCode.Unavailable
            ? $"The Spark Connect server at {_address} could not be reached after {_retry.MaxAttempts} tries. Check that it runs (scripts/spark-connect-server.sh start), the host and port in Engine:SparkRemote (--spark-remote), and use_ssl."
            : null;
        ServerUnreachable = e.StatusCode == StatusCode.Unavailable;
        return SparkErrors.ToEngineException(e, what, details, hint);
    }

    public void Dispose() => _channel.Dispose();
}

internal static class ReattachExtensions
{
    /// <summary>Without a response seen yet the field stays unset, which asks the server to replay from the start.</summary>
    public static ReattachExecuteRequest WithoutEmptyLastResponse(this ReattachExecuteRequest request)
    {
        if (request.LastResponseId.Length == 0) request.ClearLastResponseId();
        return request;
    }
}
