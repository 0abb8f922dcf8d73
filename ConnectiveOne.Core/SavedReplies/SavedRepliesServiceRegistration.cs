using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Core.SavedReplies;

public static class SavedRepliesServiceRegistration
{
    /// <summary>Saved replies: managing them and filling one into a reply.</summary>
    public static IServiceCollection AddSavedReplies(this IServiceCollection services) => services.AddScoped<SavedReplyService>();
}
