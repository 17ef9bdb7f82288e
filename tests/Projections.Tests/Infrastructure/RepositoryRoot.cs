namespace Projections.Tests.Infrastructure;

/// <summary>The repository's root folder (the one holding Projections.sln), for tests that read or run its files.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Projections.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Projections.sln) was not found above the test assembly.");
    }
}
