using ConnectiveOne.Core.Notifications;

namespace ConnectiveOne.Tests.Notifications;

/// <summary>The pure decisions: who a note names, who follows a bot, and which notifications go by email.</summary>
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class NotificationRulesTests
{
    private static readonly NotificationUser Ann = new("ann", "Ann Smith", "ann@example.test", NotificationSettings.Default("ann"));
    private static readonly NotificationUser Annabel = new("annabel", "Ann", "annabel@example.test", NotificationSettings.Default("annabel"));
    private static readonly NotificationUser Bob = new("bob", "bob@example.test", "bob@example.test", NotificationSettings.Default("bob"));

    [Theory]
    [InlineData("@Ann Smith please look", "ann,annabel")] // "@Ann" is Annabel's whole name too
    [InlineData("@ann smith, please look", "ann,annabel")]
    [InlineData("ask @Ann.", "annabel")]
    [InlineData("ask @Annette", "")]
    [InlineData("mail ann@example.test directly", "")] // an address in the text is no mention
    [InlineData("@ann@example.test and @bob@example.test", "ann")] // the author (bob) is never told
    [InlineData("@bob@example.test.", "")]
    [InlineData("no names here", "")]
    public void A_note_names_users_by_at_name_or_at_address_never_its_author(string text, string expected)
    {
        var named = NotificationRules.Mentioned(text, [Ann, Annabel, Bob], authorId: "bob").Select(u => u.Id).Order();
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(), named);
    }

    [Fact]
    public void Followers_are_everyone_by_default_or_those_who_chose_the_bot_and_a_ticket_without_bot_tells_nobody()
    {
        var bot = Guid.NewGuid();
        var picky = new NotificationUser("p", "P", null, new NotificationSettings { UserId = "p", FollowAllBots = false, FollowedBots = $"{Guid.NewGuid()}" });
        var fan = new NotificationUser("f", "F", null, new NotificationSettings { UserId = "f", FollowAllBots = false, FollowedBots = $"{bot}" });
        var now = DateTimeOffset.UnixEpoch;
        Assert.Equal(["ann", "f"], NotificationRules.NewTicket([Ann, picky, fan], 7, "Toner", bot, automatic: false, now).Select(n => n.UserId));
        Assert.Empty(NotificationRules.NewTicket([Ann, picky, fan], 7, "Toner", null, automatic: false, now));
    }

    [Theory]
    [InlineData(NotificationKind.CustomerReply, false, true)]
    [InlineData(NotificationKind.CustomerReply, true, false)] // caused by an auto-reply or other automatic mail
    [InlineData(NotificationKind.Bounce, false, false)] // a bounce is automatic mail itself
    [InlineData(NotificationKind.Assigned, false, false)] // not chosen
    public void Email_only_for_chosen_kinds_and_never_for_automatic_mail_or_bounces(NotificationKind kind, bool automatic, bool expected)
    {
        var settings = new NotificationSettings { UserId = "u", EmailKinds = "CustomerReply,Bounce,Mention" };
        Assert.Equal(expected, NotificationRules.WantsEmail(settings, kind, automatic));
    }
}
