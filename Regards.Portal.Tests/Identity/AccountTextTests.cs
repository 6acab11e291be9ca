using System.Xml.Linq;

namespace Regards.Portal.Tests.Identity;

[Trait("Tier", "Fast")]
public sealed class AccountTextTests
{
    [Fact]
    public void Every_english_account_text_has_a_french_translation_with_the_same_placeholders()
    {
        var english = Read("AccountText.resx");
        var french = Read("AccountText.fr.resx");
        Assert.Empty(english.Keys.Except(french.Keys));
        Assert.All(french, pair => Assert.False(string.IsNullOrWhiteSpace(pair.Value), pair.Key));
        Assert.All(english, pair => Assert.Equal(pair.Value.Contains("{0}"), french[pair.Key].Contains("{0}")));
    }

    private static Dictionary<string, string> Read(string file) => XDocument.Load(Path.Combine(SourceDir(), file)).Root!
        .Elements("data").ToDictionary(d => d.Attribute("name")!.Value, d => d.Element("value")!.Value);

    private static string SourceDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Regards.Portal", "Components", "Account");
            if (File.Exists(Path.Combine(candidate, "AccountText.resx")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("Regards.Portal/Components/Account not found above the test binaries.");
    }
}
