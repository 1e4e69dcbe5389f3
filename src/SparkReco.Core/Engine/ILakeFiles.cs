namespace SparkReco.Core.Engine;

/// <summary>
/// Files on storage that only the engine can reach (a data lake: s3a://, abfss://, gs://, hdfs://). The input check and
/// the publisher use it where this machine cannot open the files itself. Implemented by engines that run where the data
/// is (Spark); the embedded engine reads local files and does not implement it.
/// </summary>
public interface ILakeFiles
{
    /// <summary>
    /// The schema the engine infers for the Parquet data at <paramref name="path"/> (a file or a folder of part files,
    /// Hive partition columns included), without reading data pages. A path that does not exist fails with an
    /// <see cref="Errors.EngineException"/> whose error class is <see cref="PathNotFound"/>.
    /// </summary>
    Task<IReadOnlyList<LakeColumn>> ParquetSchemaAsync(string path, CancellationToken cancellationToken);

    /// <summary>The Parquet files the engine reads at <paramref name="path"/>, in path order, with their size, modification time and row count.</summary>
    Task<IReadOnlyList<LakeFile>> ParquetFilesAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="content"/> as the only line of a text data set at <paramref name="path"/>: a folder holding one
    /// part file (<c>part-*.txt</c>, UTF-8, no compression, the content followed by a newline) and the engine's own
    /// <c>_SUCCESS</c>. <paramref name="append"/> adds a part file to what is there; otherwise the folder is replaced.
    /// </summary>
    Task WriteTextAsync(string path, string content, bool append, CancellationToken cancellationToken);

    /// <summary>The error class of a path that does not exist (Spark's <c>PATH_NOT_FOUND</c>).</summary>
    const string PathNotFound = "PATH_NOT_FOUND";
}

/// <summary>A column of a lake schema: its name, the kind the contract checks, and the engine's own type name for messages.</summary>
public sealed record LakeColumn(string Name, LakeType Type, string TypeName);

/// <summary>The kinds of column type the input contract tells apart.</summary>
public enum LakeType
{
    Text,
    WholeNumber,
    FloatingPoint,
    FixedPoint,
    Timestamp,
    Date,
    Logical,
    Other,
}

/// <summary>One Parquet file of a lake input: its full path as the engine names it, bytes, modification time (UTC) and rows.</summary>
public sealed record LakeFile(string Path, long Bytes, DateTime ModifiedUtc, long Rows);
