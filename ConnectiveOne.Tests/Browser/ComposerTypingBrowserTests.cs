using Microsoft.Playwright;

namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// Fast typing in the reply box loses nothing. The box tells the server each keystroke, and the server renders the
/// composer again after each; if that render wrote the text it knew back into the box, every key typed while the
/// round trip was under way would be overwritten (the faster the typist or the slower the link, the more is lost).
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Database", "Sqlite")] // the composer in the page; nothing here depends on the database
public sealed class ComposerTypingBrowserTests(ChromiumFixture chromium, DraftsApp fixture) : IClassFixture<DraftsApp>
{
    [Fact]
    public async Task Text_typed_faster_than_the_server_answers_arrives_whole_in_the_box_the_preview_and_the_draft()
    {
        var ticket = await fixture.TicketAsync("Fast typist");
        await using var ann = await BrowserPage.OpenAsync(chromium.Browser, fixture.App.ServerAddress);
        // Several lines, as an operator writes them: each key is its own input event and its own server render.
        var text = string.Join("\n", Enumerable.Range(1, 6).Select(i => $"Line {i}: the replacement part ships on Monday, tracking follows."));
        await ann.RunAsync(async () =>
        {
            await ann.SignInAsync("ann@example.test", "ann-password-123", $"/inbox/{ticket}");
            var box = ann.Page.GetByTestId("reply-text");
            await box.ClickAsync();
            await ann.Page.Keyboard.TypeAsync(text);
            await Assertions.Expect(box).ToHaveValueAsync(text);

            // The server has all of it too: the preview is rendered from the text it holds, and so is the saved draft.
            await ann.Page.GetByTestId("tab-preview").ClickAsync();
            await Assertions.Expect(ann.Page.FrameLocator("[data-testid=reply-preview]").Locator("body")).ToContainTextAsync("Line 6: the replacement part ships on Monday, tracking follows.");
            await ann.Page.GetByTestId("tab-write").ClickAsync();
            await Assertions.Expect(box).ToHaveValueAsync(text);
        });
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await fixture.AnnsDraftAsync(ticket))?.Text != text && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(text, (await fixture.AnnsDraftAsync(ticket))?.Text);
    }
}
