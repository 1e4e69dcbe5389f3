using Spark.Connect;
using SparkReco.Core.Engine;

namespace SparkReco.Engine.Spark;

/// <summary>
/// The Spark Connect plans behind <see cref="ILakeFiles"/>: the schema of Parquet files (a Read relation over a parquet
/// DataSource, analysed but not run), the files Spark reads there (its file metadata columns), and one line of text
/// written as a data set (a one-row LocalRelation through WriteOperation, format text).
/// </summary>
internal static class LakePlans
{
    /// <summary>
    /// The Parquet data at a path as Spark reads it, with <c>mergeSchema</c> as the source views use it
    /// (<see cref="SparkDialect.CreateParquetView"/>), so the schema checked is the one the run gets.
    /// </summary>
    public static Relation ReadParquet(string path)
    {
        var source = new Read.Types.DataSource { Format = "parquet" };
        source.Paths.Add(path);
        source.Options.Add("mergeSchema", "true");
        return new Relation { Read = new Read { DataSource = source } };
    }

    /// <summary>
    /// One row per Parquet file Spark reads at the path: its <c>_metadata</c> (Spark 3.3+) path, size and modification
    /// time, and its row count. Files that hold no row do not appear: they add nothing to what the run reads.
    /// </summary>
    public static string FilesQuery(string path) =>
        $"""
        SELECT
            _metadata.file_path AS file_path,
            _metadata.file_size AS file_size,
            _metadata.file_modification_time AS modified,
            count(*) AS row_count
        FROM parquet.{SparkDialect.Instance.Quote(path)}
        GROUP BY _metadata.file_path, _metadata.file_size, _metadata.file_modification_time
        ORDER BY file_path
        """;

    /// <summary>
    /// <paramref name="data"/> (an Arrow stream of one string column, one row) written as text at <paramref name="path"/>:
    /// no compression, so the part file is <c>part-*.txt</c> whatever the cluster's default codec; a one-row
    /// LocalRelation is one partition on Spark, so one part file.
    /// </summary>
    public static WriteOperation WriteText(byte[] data, string path, bool append)
    {
        var write = new WriteOperation
        {
            Input = new Relation { LocalRelation = new LocalRelation { Data = Google.Protobuf.ByteString.CopyFrom(data) } },
            Source = "text",
            Path = path,
            Mode = append ? WriteOperation.Types.SaveMode.Append : WriteOperation.Types.SaveMode.Overwrite,
        };
        write.Options.Add("compression", "none");
        return write;
    }

    /// <summary>A column of a Spark schema as the contract's kind, and Spark's own name for the type (for messages).</summary>
    public static LakeColumn Column(DataType.Types.StructField field) => field.DataType.KindCase switch
    {
        DataType.KindOneofCase.String => new(field.Name, LakeType.Text, "string"),
        DataType.KindOneofCase.Char => new(field.Name, LakeType.Text, "char"),
        DataType.KindOneofCase.VarChar => new(field.Name, LakeType.Text, "varchar"),
        DataType.KindOneofCase.Byte => new(field.Name, LakeType.WholeNumber, "tinyint"),
        DataType.KindOneofCase.Short => new(field.Name, LakeType.WholeNumber, "smallint"),
        DataType.KindOneofCase.Integer => new(field.Name, LakeType.WholeNumber, "int"),
        DataType.KindOneofCase.Long => new(field.Name, LakeType.WholeNumber, "bigint"),
        DataType.KindOneofCase.Float => new(field.Name, LakeType.FloatingPoint, "float"),
        DataType.KindOneofCase.Double => new(field.Name, LakeType.FloatingPoint, "double"),
        DataType.KindOneofCase.Decimal => new(field.Name, LakeType.FixedPoint, "decimal"),
        DataType.KindOneofCase.Timestamp => new(field.Name, LakeType.Timestamp, "timestamp"),
        DataType.KindOneofCase.TimestampNtz => new(field.Name, LakeType.Timestamp, "timestamp_ntz"),
        DataType.KindOneofCase.Date => new(field.Name, LakeType.Date, "date"),
        DataType.KindOneofCase.Boolean => new(field.Name, LakeType.Logical, "boolean"),
        DataType.KindOneofCase.Binary => new(field.Name, LakeType.Other, "binary"),
        // Kinds outside the project's types.proto subset (array, map, struct …) arrive without a known case.
        var other => new(field.Name, LakeType.Other, other == DataType.KindOneofCase.None ? "a nested or unknown type" : other.ToString().ToLowerInvariant()),
    };
}
