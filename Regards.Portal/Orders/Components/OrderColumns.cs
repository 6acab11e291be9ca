namespace Regards.Portal.Orders.Components;

/// <summary>The columns of the order tables (ui.md), with their default visibility per page.</summary>
public static class OrderColumns
{
    public const string Id = "id", Owner = "owner", Label = "label", Created = "creationDate", Expires = "expirationDate", Status = "status",
        Progress = "percentCompleted", Files = "filesCount", InError = "filesInErrorCount", Size = "totalSize", Objects = "objectsCount", StatusDate = "statusDate";

    public static readonly string[] User = [Label, Created, Expires, Status, Progress, Files, InError, Size, Objects];
    public static readonly string[] UserDefault = [Label, Created, Expires, Status, Progress, Files, Size];

    public static readonly string[] Admin = [Id, Owner, Label, Created, Expires, Status, StatusDate, Progress, Files, InError, Size, Objects];
    public static readonly string[] AdminDefault = [Id, Owner, Label, Created, Status, Progress, Files, InError, Size];

    public static string TextKey(string column) => column switch
    {
        Id => "Id", Owner => "Owner", Label => "Label", Created => "Created", Expires => "Expires", Status => "Status", StatusDate => "StatusDate",
        Progress => "Progress", Files => "Files", InError => "FilesInError", Size => "Size", Objects => "Objects", _ => column,
    };
}
