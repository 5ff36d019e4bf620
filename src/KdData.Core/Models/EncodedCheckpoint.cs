namespace KdData.Models;

/// <summary>
/// A checkpoint as two byte blobs, ready for an object store: the weights file and its JSON record.
/// <see cref="Record"/> is the record as written (with <see cref="CheckpointRecord.WeightsSha256"/> set).
/// </summary>
public sealed record EncodedCheckpoint(ReadOnlyMemory<byte> Weights, ReadOnlyMemory<byte> RecordJson, CheckpointRecord Record);
