namespace Regards.Portal.Components.Account;

/// <summary>Marker for the account pages' localised texts.</summary>
public sealed class AccountText;
