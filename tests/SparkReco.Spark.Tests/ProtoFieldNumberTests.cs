using Google.Protobuf.Reflection;
using Spark.Connect;

namespace SparkReco.Spark.Tests;

/// <summary>
/// Every field of the project's .proto files (src/SparkReco.Engine.Spark/Protos, read through the descriptors protoc
/// generated from them) against the official numbers and types, written down by hand from the apache/spark files:
/// <list type="bullet">
/// <item>sql/connect/common/src/main/protobuf/spark/connect/base.proto at commit 08bc36daf3e082eaddd2c8ac3086934fda0af88d</item>
/// <item>…/relations.proto at 2cf73301a4c24e7b5cbd801adbe4827a75e4c5a6</item>
/// <item>…/commands.proto at 8e94a685c382487d22083824fad18f68eea95586</item>
/// <item>…/types.proto at c3c2a580008597b44dab0e72d7276931221270ab</item>
/// </list>
/// A wrong number or type would be silently misread by a real server, so a field missing from this table fails too.
/// </summary>
public sealed class ProtoFieldNumberTests
{
    /// <summary>message.field → "number [optional|repeated|oneof NAME] type" as in the official files.</summary>
    private static readonly string[] Official =
    [
        // base.proto
        "Plan.root = 1 oneof op_type Relation",
        "Plan.command = 2 oneof op_type Command",
        "UserContext.user_id = 1 string",
        "UserContext.user_name = 2 string",
        "AnalyzePlanRequest.session_id = 1 string",
        "AnalyzePlanRequest.user_context = 2 UserContext",
        "AnalyzePlanRequest.client_type = 3 optional string",
        "AnalyzePlanRequest.schema = 4 oneof analyze AnalyzePlanRequest.Schema",
        "AnalyzePlanRequest.spark_version = 10 oneof analyze AnalyzePlanRequest.SparkVersion",
        "AnalyzePlanRequest.Schema.plan = 1 Plan",
        "AnalyzePlanResponse.session_id = 1 string",
        "AnalyzePlanResponse.server_side_session_id = 15 string",
        "AnalyzePlanResponse.schema = 2 oneof result AnalyzePlanResponse.Schema",
        "AnalyzePlanResponse.spark_version = 8 oneof result AnalyzePlanResponse.SparkVersion",
        "AnalyzePlanResponse.Schema.schema = 1 DataType",
        "AnalyzePlanResponse.SparkVersion.version = 1 string",
        "ExecutePlanRequest.session_id = 1 string",
        "ExecutePlanRequest.user_context = 2 UserContext",
        "ExecutePlanRequest.operation_id = 6 optional string",
        "ExecutePlanRequest.plan = 3 Plan",
        "ExecutePlanRequest.client_type = 4 optional string",
        "ExecutePlanRequest.request_options = 5 repeated ExecutePlanRequest.RequestOption",
        "ExecutePlanRequest.tags = 7 repeated string",
        "ExecutePlanRequest.RequestOption.reattach_options = 1 oneof request_option ReattachOptions",
        "ExecutePlanResponse.session_id = 1 string",
        "ExecutePlanResponse.server_side_session_id = 15 string",
        "ExecutePlanResponse.operation_id = 12 string",
        "ExecutePlanResponse.response_id = 13 string",
        "ExecutePlanResponse.arrow_batch = 2 oneof response_type ExecutePlanResponse.ArrowBatch",
        "ExecutePlanResponse.sql_command_result = 5 oneof response_type ExecutePlanResponse.SqlCommandResult",
        "ExecutePlanResponse.result_complete = 14 oneof response_type ExecutePlanResponse.ResultComplete",
        "ExecutePlanResponse.schema = 7 DataType",
        "ExecutePlanResponse.SqlCommandResult.relation = 1 Relation",
        "ExecutePlanResponse.ArrowBatch.row_count = 1 int64",
        "ExecutePlanResponse.ArrowBatch.data = 2 bytes",
        "ExecutePlanResponse.ArrowBatch.start_offset = 3 optional int64",
        "KeyValue.key = 1 string",
        "KeyValue.value = 2 optional string",
        "ConfigRequest.session_id = 1 string",
        "ConfigRequest.user_context = 2 UserContext",
        "ConfigRequest.operation = 3 ConfigRequest.Operation",
        "ConfigRequest.client_type = 4 optional string",
        "ConfigRequest.Operation.set = 1 oneof op_type ConfigRequest.Set",
        "ConfigRequest.Operation.get = 2 oneof op_type ConfigRequest.Get",
        "ConfigRequest.Operation.unset = 6 oneof op_type ConfigRequest.Unset",
        "ConfigRequest.Set.pairs = 1 repeated KeyValue",
        "ConfigRequest.Get.keys = 1 repeated string",
        "ConfigRequest.Unset.keys = 1 repeated string",
        "ConfigResponse.session_id = 1 string",
        "ConfigResponse.server_side_session_id = 4 string",
        "ConfigResponse.pairs = 2 repeated KeyValue",
        "ConfigResponse.warnings = 3 repeated string",
        "InterruptRequest.session_id = 1 string",
        "InterruptRequest.user_context = 2 UserContext",
        "InterruptRequest.client_type = 3 optional string",
        "InterruptRequest.interrupt_type = 4 enum InterruptRequest.InterruptType",
        "InterruptRequest.operation_tag = 5 oneof interrupt string",
        "InterruptRequest.operation_id = 6 oneof interrupt string",
        "InterruptResponse.session_id = 1 string",
        "InterruptResponse.server_side_session_id = 3 string",
        "InterruptResponse.interrupted_ids = 2 repeated string",
        "ReattachOptions.reattachable = 1 bool",
        "ReattachExecuteRequest.session_id = 1 string",
        "ReattachExecuteRequest.user_context = 2 UserContext",
        "ReattachExecuteRequest.operation_id = 3 string",
        "ReattachExecuteRequest.client_type = 4 optional string",
        "ReattachExecuteRequest.last_response_id = 5 optional string",
        "ReleaseExecuteRequest.session_id = 1 string",
        "ReleaseExecuteRequest.user_context = 2 UserContext",
        "ReleaseExecuteRequest.operation_id = 3 string",
        "ReleaseExecuteRequest.client_type = 4 optional string",
        "ReleaseExecuteRequest.release_all = 5 oneof release ReleaseExecuteRequest.ReleaseAll",
        "ReleaseExecuteRequest.release_until = 6 oneof release ReleaseExecuteRequest.ReleaseUntil",
        "ReleaseExecuteRequest.ReleaseUntil.response_id = 1 string",
        "ReleaseExecuteResponse.session_id = 1 string",
        "ReleaseExecuteResponse.server_side_session_id = 3 string",
        "ReleaseExecuteResponse.operation_id = 2 optional string",
        "ReleaseSessionRequest.session_id = 1 string",
        "ReleaseSessionRequest.user_context = 2 UserContext",
        "ReleaseSessionRequest.client_type = 3 optional string",
        "ReleaseSessionResponse.session_id = 1 string",
        "ReleaseSessionResponse.server_side_session_id = 2 string",
        "FetchErrorDetailsRequest.session_id = 1 string",
        "FetchErrorDetailsRequest.user_context = 2 UserContext",
        "FetchErrorDetailsRequest.error_id = 3 string",
        "FetchErrorDetailsRequest.client_type = 4 optional string",
        "FetchErrorDetailsResponse.server_side_session_id = 3 string",
        "FetchErrorDetailsResponse.session_id = 4 string",
        "FetchErrorDetailsResponse.root_error_idx = 1 optional int32",
        "FetchErrorDetailsResponse.errors = 2 repeated FetchErrorDetailsResponse.Error",
        "FetchErrorDetailsResponse.SparkThrowable.error_class = 1 optional string",
        "FetchErrorDetailsResponse.SparkThrowable.message_parameters = 2 map<string,string>",
        "FetchErrorDetailsResponse.SparkThrowable.sql_state = 4 optional string",
        "FetchErrorDetailsResponse.SparkThrowable.condition = 5 optional string",
        "FetchErrorDetailsResponse.Error.error_type_hierarchy = 1 repeated string",
        "FetchErrorDetailsResponse.Error.message = 2 string",
        "FetchErrorDetailsResponse.Error.cause_idx = 4 optional int32",
        "FetchErrorDetailsResponse.Error.spark_throwable = 5 optional FetchErrorDetailsResponse.SparkThrowable",
        // relations.proto
        "Relation.read = 2 oneof rel_type Read",
        "Relation.sql = 10 oneof rel_type SQL",
        "Relation.local_relation = 11 oneof rel_type LocalRelation",
        "SQL.query = 1 string",
        "LocalRelation.data = 1 optional bytes",
        "LocalRelation.schema = 2 optional string",
        "Read.data_source = 2 oneof read_type Read.DataSource",
        "Read.DataSource.format = 1 optional string",
        "Read.DataSource.options = 3 map<string,string>",
        "Read.DataSource.paths = 4 repeated string",
        // commands.proto
        "Command.write_operation = 2 oneof command_type WriteOperation",
        "Command.create_dataframe_view = 3 oneof command_type CreateDataFrameViewCommand",
        "Command.sql_command = 5 oneof command_type SqlCommand",
        "SqlCommand.sql = 1 string",
        "SqlCommand.input = 6 Relation",
        "CreateDataFrameViewCommand.input = 1 Relation",
        "CreateDataFrameViewCommand.name = 2 string",
        "CreateDataFrameViewCommand.is_global = 3 bool",
        "CreateDataFrameViewCommand.replace = 4 bool",
        "WriteOperation.input = 1 Relation",
        "WriteOperation.source = 2 optional string",
        "WriteOperation.path = 3 oneof save_type string",
        "WriteOperation.mode = 5 enum WriteOperation.SaveMode",
        "WriteOperation.sort_column_names = 6 repeated string",
        "WriteOperation.partitioning_columns = 7 repeated string",
        "WriteOperation.options = 9 map<string,string>",
        // types.proto
        "DataType.null = 1 oneof kind DataType.NULL",
        "DataType.binary = 2 oneof kind DataType.Binary",
        "DataType.boolean = 3 oneof kind DataType.Boolean",
        "DataType.byte = 4 oneof kind DataType.Byte",
        "DataType.short = 5 oneof kind DataType.Short",
        "DataType.integer = 6 oneof kind DataType.Integer",
        "DataType.long = 7 oneof kind DataType.Long",
        "DataType.float = 8 oneof kind DataType.Float",
        "DataType.double = 9 oneof kind DataType.Double",
        "DataType.decimal = 10 oneof kind DataType.Decimal",
        "DataType.string = 11 oneof kind DataType.String",
        "DataType.char = 12 oneof kind DataType.Char",
        "DataType.var_char = 13 oneof kind DataType.VarChar",
        "DataType.date = 14 oneof kind DataType.Date",
        "DataType.timestamp = 15 oneof kind DataType.Timestamp",
        "DataType.timestamp_ntz = 16 oneof kind DataType.TimestampNTZ",
        "DataType.struct = 21 oneof kind DataType.Struct",
        "DataType.Boolean.type_variation_reference = 1 uint32",
        "DataType.Byte.type_variation_reference = 1 uint32",
        "DataType.Short.type_variation_reference = 1 uint32",
        "DataType.Integer.type_variation_reference = 1 uint32",
        "DataType.Long.type_variation_reference = 1 uint32",
        "DataType.Float.type_variation_reference = 1 uint32",
        "DataType.Double.type_variation_reference = 1 uint32",
        "DataType.String.type_variation_reference = 1 uint32",
        "DataType.String.collation = 2 string",
        "DataType.Binary.type_variation_reference = 1 uint32",
        "DataType.NULL.type_variation_reference = 1 uint32",
        "DataType.Timestamp.type_variation_reference = 1 uint32",
        "DataType.Date.type_variation_reference = 1 uint32",
        "DataType.TimestampNTZ.type_variation_reference = 1 uint32",
        "DataType.Char.length = 1 int32",
        "DataType.Char.type_variation_reference = 2 uint32",
        "DataType.VarChar.length = 1 int32",
        "DataType.VarChar.type_variation_reference = 2 uint32",
        "DataType.Decimal.scale = 1 optional int32",
        "DataType.Decimal.precision = 2 optional int32",
        "DataType.Decimal.type_variation_reference = 3 uint32",
        "DataType.StructField.name = 1 string",
        "DataType.StructField.data_type = 2 DataType",
        "DataType.StructField.nullable = 3 bool",
        "DataType.StructField.metadata = 4 optional string",
        "DataType.Struct.fields = 1 repeated DataType.StructField",
        "DataType.Struct.type_variation_reference = 2 uint32",
    ];

    /// <summary>enum.value → number, from the same files.</summary>
    private static readonly string[] OfficialEnums =
    [
        "WriteOperation.SaveMode.SAVE_MODE_UNSPECIFIED = 0",
        "WriteOperation.SaveMode.SAVE_MODE_APPEND = 1",
        "WriteOperation.SaveMode.SAVE_MODE_OVERWRITE = 2",
        "WriteOperation.SaveMode.SAVE_MODE_ERROR_IF_EXISTS = 3",
        "WriteOperation.SaveMode.SAVE_MODE_IGNORE = 4",
        "InterruptRequest.InterruptType.INTERRUPT_TYPE_UNSPECIFIED = 0",
        "InterruptRequest.InterruptType.INTERRUPT_TYPE_ALL = 1",
        "InterruptRequest.InterruptType.INTERRUPT_TYPE_TAG = 2",
        "InterruptRequest.InterruptType.INTERRUPT_TYPE_OPERATION_ID = 3",
    ];

    /// <summary>The service's methods and their streaming shape (base.proto's SparkConnectService).</summary>
    private static readonly string[] OfficialMethods =
    [
        "ExecutePlan(ExecutePlanRequest) returns stream ExecutePlanResponse",
        "AnalyzePlan(AnalyzePlanRequest) returns AnalyzePlanResponse",
        "Config(ConfigRequest) returns ConfigResponse",
        "Interrupt(InterruptRequest) returns InterruptResponse",
        "ReattachExecute(ReattachExecuteRequest) returns stream ExecutePlanResponse",
        "ReleaseExecute(ReleaseExecuteRequest) returns ReleaseExecuteResponse",
        "ReleaseSession(ReleaseSessionRequest) returns ReleaseSessionResponse",
        "FetchErrorDetails(FetchErrorDetailsRequest) returns FetchErrorDetailsResponse",
    ];

    private static readonly FileDescriptor[] Files = [BaseReflection.Descriptor, RelationsReflection.Descriptor, CommandsReflection.Descriptor, TypesReflection.Descriptor];

    private static string Short(string fullName) => fullName.StartsWith("spark.connect.", StringComparison.Ordinal) ? fullName["spark.connect.".Length..] : fullName;

    private static IEnumerable<MessageDescriptor> Messages(IEnumerable<MessageDescriptor> messages) =>
        messages.Where(m => !m.GetOptions()?.MapEntry ?? true).SelectMany(m => Messages(m.NestedTypes).Prepend(m));

    private static string Describe(FieldDescriptor f)
    {
        string Type(FieldDescriptor field) => field.FieldType switch
        {
            FieldType.Message => Short(field.MessageType.FullName),
            FieldType.Enum => "enum " + Short(field.EnumType.FullName),
            var t => t.ToString().ToLowerInvariant(),
        };
        if (f.IsMap) return $"{f.FieldNumber} map<{Type(f.MessageType.FindFieldByNumber(1))},{Type(f.MessageType.FindFieldByNumber(2))}>";
        var label = f.IsRepeated ? "repeated "
            : f.RealContainingOneof is { } oneof ? $"oneof {oneof.Name} "
            : f.ContainingOneof is { IsSynthetic: true } ? "optional "
            : "";
        return $"{f.FieldNumber} {label}{Type(f)}";
    }

    private static Dictionary<string, string> Table(IEnumerable<string> lines) =>
        lines.ToDictionary(l => l[..l.IndexOf(" = ", StringComparison.Ordinal)], l => l[(l.IndexOf(" = ", StringComparison.Ordinal) + 3)..], StringComparer.Ordinal);

    [Fact]
    public void Every_field_of_the_project_protos_has_the_official_number_and_type()
    {
        var official = Table(Official);
        var ours = Messages(Files.SelectMany(f => f.MessageTypes))
            .SelectMany(m => m.Fields.InDeclarationOrder().Select(f => (Key: $"{Short(m.FullName)}.{f.Name}", Value: Describe(f))))
            .ToList();
        Assert.NotEmpty(ours);
        var problems = new List<string>();
        foreach (var (key, value) in ours)
        {
            if (!official.TryGetValue(key, out var expected)) problems.Add($"{key} = {value}: not in the table of official numbers (look it up in apache/spark and add it)");
            else if (expected != value) problems.Add($"{key}: ours is '{value}', official is '{expected}'");
        }
        foreach (var key in official.Keys.Except(ours.Select(o => o.Key)))
            problems.Add($"{key}: in the table but not in the project's .proto files");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Every_enum_value_has_the_official_number()
    {
        var official = Table(OfficialEnums);
        var ours = Messages(Files.SelectMany(f => f.MessageTypes)).SelectMany(m => m.EnumTypes)
            .SelectMany(e => e.Values.Select(v => ($"{Short(e.FullName)}.{v.Name}", v.Number.ToString(System.Globalization.CultureInfo.InvariantCulture))))
            .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        Assert.Equal(official.OrderBy(p => p.Key, StringComparer.Ordinal), ours.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void The_service_has_the_official_name_and_method_shapes()
    {
        var service = Assert.Single(BaseReflection.Descriptor.Services);
        Assert.Equal("spark.connect.SparkConnectService", service.FullName);
        var methods = service.Methods.Select(m =>
            $"{m.Name}({Short(m.InputType.FullName)}) returns {(m.IsServerStreaming ? "stream " : "")}{Short(m.OutputType.FullName)}").ToList();
        Assert.Equal(OfficialMethods.Order(StringComparer.Ordinal), methods.Order(StringComparer.Ordinal));
        Assert.All(service.Methods, m => Assert.False(m.IsClientStreaming));
        Assert.All(Files, f => Assert.Equal("spark.connect", f.Package));
    }
}
