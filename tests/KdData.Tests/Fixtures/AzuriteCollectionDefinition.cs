namespace KdData.Tests.Fixtures;

/// <summary>Test classes marked <c>[Collection("Azurite")]</c> share one Azurite process (and run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollectionDefinition : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
