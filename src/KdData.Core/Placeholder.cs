namespace KdData; internal static class Placeholder { }
