namespace Regards.Portal.Orders.Components;

/// <summary>The columns of the order tables (ui.md), with their default visibility per page.</summary>
public static class OrderColumns
{
    public const string Id = "id", Owner = "owner", Label = "label", Created = "creationDate", Expires = "expirationDate", Status = "status",
        Progress = "percentCompleted", Files = "filesCount", InError = "filesInErrorCount", Size = "totalSize", Objects = "objectsCount", StatusDate = "statusDate";

    // ui.md's order: Label; Status (+ progress); Creation; Expiration; Objects count ("N products – totalizing M files"); Total size; Errors count (hidden).
    public static readonly string[] User = [Label, Status, Progress, Created, Expires, Objects, Size, InError];
    public static readonly string[] UserDefault = [Label, Status, Progress, Created, Expires, Objects, Size];

    // The admin guide's columns, in its order: User, Label, Progress, Creation, Total size, Errors count, Status; the
    // identifier, the expiration and the objects count on demand (hidden by default).
    public static readonly string[] Admin = [Owner, Label, Progress, Id, Created, Expires, Objects, Size, InError, Status];
    public static readonly string[] AdminDefault = [Owner, Label, Progress, Created, Size, InError, Status];

    /// <summary>The admin guide's column names (User, Creation, Total size, Errors count...).</summary>
    public static string AdminTextKey(string column) => column switch
    {
        Created => "Column_Creation", Expires => "Column_Expiration", Size => "Column_TotalSize", Objects => "Column_ObjectsCount", _ => TextKey(column),
    };

    public static string TextKey(string column) => column switch
    {
        Id => "Id", Owner => "User", Label => "Label", Created => "Created", Expires => "Expires", Status => "Status", StatusDate => "StatusDate",
        Progress => "Progress", Files => "Files", InError => "FilesInError", Size => "Size", Objects => "Objects", _ => column,
    };
}
