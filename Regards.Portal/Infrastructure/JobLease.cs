namespace Regards.Portal.Infrastructure;

/// <summary>A named database lease so that one instance at a time runs a periodic sweep (expiry, reminders).</summary>
public class JobLease
{
    public required string Name { get; set; }
    public string? Owner { get; set; }
    public DateTime ExpiresAt { get; set; }
}
