namespace Regards.Portal.Tests.Infrastructure;

public sealed class PortalProcessTests
{
    [Fact]
    public async Task The_portal_runs_as_a_child_process_and_survives_a_kill_on_the_same_data_folder()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using (var first = await PortalProcess.StartAsync(dataPath))
            {
                using var client = first.CreateClient();
                Assert.Contains("\"status\":\"Healthy\"", await client.GetStringAsync("/health/ready"));
                await first.KillAsync();
            }

            // Same database after a SIGKILL: migrations and seeding are idempotent, sign-in still works.
            await using var second = await PortalProcess.StartAsync(dataPath);
            using var again = second.CreateClient();
            Assert.Contains("\"status\":\"Healthy\"", await again.GetStringAsync("/health/ready"));
            Assert.False(string.IsNullOrEmpty(await PortalAppFactory.LoginAsync(again, DemoUsers.User, "Regards!User1")));
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { }
        }
    }
}
