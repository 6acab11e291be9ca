using System.Globalization;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>Runs a test's step as a user of that language would see it: "fr" is fr-FR, anything else en-US.</summary>
public static class TestCulture
{
    public static async Task RunAsync(string language, Func<Task> action)
    {
        var (culture, uiCulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo(language == "fr" ? "fr-FR" : "en-US");
        try
        {
            await action();
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, uiCulture);
        }
    }
}
