namespace KdData.Datasets;

/// <summary>An IDX file (MNIST format) is malformed; the message names the file and the problem.</summary>
public sealed class IdxFormatException : Exception
{
    public IdxFormatException()
    {
    }

    public IdxFormatException(string message)
        : base(message)
    {
    }

    public IdxFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
