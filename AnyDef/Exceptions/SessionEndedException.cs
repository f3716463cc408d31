namespace AnyDefNet;

/// <summary>A cell named a session that has ended (on request, after its idle time, when its process was ended to make room, or
/// when its process died): its variables are gone, and the cell did not run. Start a new session with a new id.</summary>
public sealed class SessionEndedException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public SessionEndedException(string sessionId, string reason)
        : base($"The Python session '{sessionId}' has ended ({reason}); its variables, imports and definitions are gone and the code did not run. " +
               "Start a new session with a new id and run what it needs again.")
    {
        SessionId = sessionId;
        Reason = reason;
    }

    /// <summary>The session that ended.</summary>
    public string SessionId { get; }

    /// <summary>Why it ended.</summary>
    public string Reason { get; }
}
