namespace Regards.Portal.Orders.Components;

/// <summary>The columns of the order tables (ui.md), with their default visibility per page.</summary>
public static class OrderColumns
{
    public const string Id = "id", Owner = "owner", Label = "label", Created = "creationDate", Expires = "expirationDate", Status = "status",
        Progress = "percentCompleted", Files = "filesCount", InError = "filesInErrorCount", Size = "totalSize", Objects = "objectsCount", StatusDate = "statusDate";

    // ui.md's order: Label; Status (+ progress); Creation; Expiration; Objects count ("N products – totalizing M files"); Total size; Errors count (hidden).
    public static readonly string[] User = [Label, Status, Progress, Created, Expires, Objects, Size, InError];
    public static readonly string[] UserDefault = [Label, Status, Progress, Created, Expires, Objects, Size];

    // ui.md's order: User, Label, Status+progress, Identifier (hidden), Creation, Expiration (hidden), Objects count (hidden), Total size, Errors count.
    public static readonly string[] Admin = [Owner, Label, Status, Progress, Id, Created, Expires, StatusDate, Objects, Files, Size, InError];
    // The admin guide's defaults: User, Label, Progress, Creation, Total size, Errors count, Status (files count on demand).
    public static readonly string[] AdminDefault = [Owner, Label, Status, Progress, Created, Size, InError];

    public static string TextKey(string column) => column switch
    {
        Id => "Id", Owner => "User", Label => "Label", Created => "Created", Expires => "Expires", Status => "Status", StatusDate => "StatusDate",
        Progress => "Progress", Files => "Files", InError => "FilesInError", Size => "Size", Objects => "Objects", _ => column,
    };
}
