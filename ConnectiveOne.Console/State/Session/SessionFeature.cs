namespace ConnectiveOne.Console.State.Session;

/// <summary>Who is signed in to this circuit, as the shell shows it.</summary>
public sealed record SessionState(string? UserId, string? Name, string? Email, bool IsAdmin)
{
    public bool IsSignedIn => UserId is not null;
}

public sealed record SessionChanged(string? UserId, string? Name, string? Email, bool IsAdmin);

public sealed class SessionFeature : Feature<SessionState>
{
    public override SessionState Initial => new(null, null, null, false);

    public SessionFeature() => On<SessionChanged>(Reduce);

    public static SessionState Reduce(SessionState state, SessionChanged action) =>
        new(action.UserId, action.Name, action.Email, action.IsAdmin);
}
