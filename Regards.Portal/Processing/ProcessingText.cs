namespace Regards.Portal.Processing;

/// <summary>Marker for the processing pages' localised texts.</summary>
public sealed class ProcessingText;
