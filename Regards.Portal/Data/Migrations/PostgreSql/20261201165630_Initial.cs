using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Regards.Portal.Data.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AccessGroups",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    Description = table.Column<string>(type: "text", nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessGroups", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "AspNetRoles",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    Name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    NormalizedName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    ConcurrencyStamp = table.Column<string>(type: "text", nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoles", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUsers",
                columns: table => new
                {
                    Id = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    MaxDownloads = table.Column<int>(type: "integer", nullable: false),
                    MaxConcurrentDownloads = table.Column<int>(type: "integer", nullable: false),
                    DownloadsCount = table.Column<int>(type: "integer", nullable: false),
                    UserName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    NormalizedUserName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    Email = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    NormalizedEmail = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    EmailConfirmed = table.Column<bool>(type: "boolean", nullable: false),
                    PasswordHash = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    SecurityStamp = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    ConcurrencyStamp = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    PhoneNumber = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    PhoneNumberConfirmed = table.Column<bool>(type: "boolean", nullable: false),
                    TwoFactorEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    LockoutEnd = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LockoutEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    AccessFailedCount = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUsers", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AttemptCounters",
                columns: table => new
                {
                    Key = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false, collation: "C"),
                    Count = table.Column<int>(type: "integer", nullable: false),
                    WindowStartsAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    BlockedUntil = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AttemptCounters", x => x.Key);
                });

            migrationBuilder.CreateTable(
                name: "Baskets",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Owner = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false, collation: "C"),
                    OrderId = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Baskets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    FriendlyName = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    Xml = table.Column<string>(type: "text", nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DatasetAccessRights",
                columns: table => new
                {
                    GroupName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    DatasetId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    Level = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatasetAccessRights", x => new { x.GroupName, x.DatasetId });
                });

            migrationBuilder.CreateTable(
                name: "Datasets",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    Label = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    Description = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false, collation: "C"),
                    PublicAccess = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Datasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "JobLeases",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    Owner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true, collation: "C"),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_JobLeases", x => x.Name);
                });

            migrationBuilder.CreateTable(
                name: "Orders",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Owner = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false, collation: "C"),
                    Label = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false, collation: "C"),
                    CreationDate = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Status = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    StatusDate = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpirationDate = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    PercentCompleted = table.Column<int>(type: "integer", nullable: false),
                    FilesInErrorCount = table.Column<int>(type: "integer", nullable: false),
                    AvailableFilesCount = table.Column<int>(type: "integer", nullable: false),
                    ZippableFilesCount = table.Column<int>(type: "integer", nullable: false),
                    WaitingForUser = table.Column<bool>(type: "boolean", nullable: false),
                    TotalSize = table.Column<long>(type: "bigint", nullable: false),
                    ObjectsCount = table.Column<int>(type: "integer", nullable: false),
                    FilesCount = table.Column<int>(type: "integer", nullable: false),
                    Message = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true, collation: "C"),
                    IsApplicationOrder = table.Column<bool>(type: "boolean", nullable: false),
                    BasketId = table.Column<long>(type: "bigint", nullable: true),
                    CompletionDate = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ExpiryWarningSent = table.Column<bool>(type: "boolean", nullable: false),
                    LeaseOwner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true, collation: "C"),
                    LeaseExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CompletionAttempts = table.Column<int>(type: "integer", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Orders", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "OutboxMails",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    To = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false, collation: "C"),
                    Subject = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false, collation: "C"),
                    Message = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    NextAttemptAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    LastError = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true, collation: "C"),
                    GaveUp = table.Column<bool>(type: "boolean", nullable: false),
                    LeaseOwner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true, collation: "C"),
                    LeaseExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OutboxMails", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "PortalSettings",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    SubOrderDurationHours = table.Column<int>(type: "integer", nullable: false),
                    ApplicationSubOrderDurationHours = table.Column<int>(type: "integer", nullable: false),
                    MaxExpirationHours = table.Column<int>(type: "integer", nullable: false),
                    ReminderDelayHours = table.Column<int>(type: "integer", nullable: false),
                    DefaultMaxDownloads = table.Column<int>(type: "integer", nullable: false),
                    DefaultMaxConcurrentDownloads = table.Column<int>(type: "integer", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PortalSettings", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ProcessingSettings",
                columns: table => new
                {
                    BusinessId = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    MinimumRole = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false, collation: "C"),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProcessingSettings", x => x.BusinessId);
                });

            migrationBuilder.CreateTable(
                name: "UiModuleSettings",
                columns: table => new
                {
                    ModuleId = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false, collation: "C"),
                    Active = table.Column<bool>(type: "boolean", nullable: false),
                    Description = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false, collation: "C"),
                    TitleEn = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    TitleFr = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    DisplayMode = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    IsHomePage = table.Column<bool>(type: "boolean", nullable: false),
                    Icon = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false, collation: "C"),
                    DisplayDatasets = table.Column<bool>(type: "boolean", nullable: false),
                    DisplayCartLink = table.Column<bool>(type: "boolean", nullable: false),
                    CartVisibility = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UiModuleSettings", x => x.ModuleId);
                });

            migrationBuilder.CreateTable(
                name: "UserAccessGroups",
                columns: table => new
                {
                    UserEmail = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false, collation: "C"),
                    GroupName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UserAccessGroups", x => new { x.UserEmail, x.GroupName });
                });

            migrationBuilder.CreateTable(
                name: "AspNetRoleClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    RoleId = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    ClaimType = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    ClaimValue = table.Column<string>(type: "text", nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetRoleClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetRoleClaims_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserClaims",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    UserId = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    ClaimType = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    ClaimValue = table.Column<string>(type: "text", nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserClaims", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AspNetUserClaims_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserLogins",
                columns: table => new
                {
                    LoginProvider = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    ProviderKey = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    ProviderDisplayName = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    UserId = table.Column<string>(type: "text", nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserLogins", x => new { x.LoginProvider, x.ProviderKey });
                    table.ForeignKey(
                        name: "FK_AspNetUserLogins_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserRoles",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    RoleId = table.Column<string>(type: "text", nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserRoles", x => new { x.UserId, x.RoleId });
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "AspNetRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_AspNetUserRoles_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AspNetUserTokens",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    LoginProvider = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    Name = table.Column<string>(type: "text", nullable: false, collation: "C"),
                    Value = table.Column<string>(type: "text", nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AspNetUserTokens", x => new { x.UserId, x.LoginProvider, x.Name });
                    table.ForeignKey(
                        name: "FK_AspNetUserTokens_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "BasketDatasetSelections",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    BasketId = table.Column<long>(type: "bigint", nullable: false),
                    DatasetId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    DatasetLabel = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    ObjectsCount = table.Column<int>(type: "integer", nullable: false),
                    FilesCount = table.Column<int>(type: "integer", nullable: false),
                    FilesSize = table.Column<long>(type: "bigint", nullable: false),
                    Quota = table.Column<long>(type: "bigint", nullable: false),
                    FileFilter = table.Column<string>(type: "text", nullable: true),
                    Processing = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BasketDatasetSelections", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BasketDatasetSelections_Baskets_BasketId",
                        column: x => x.BasketId,
                        principalTable: "Baskets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DataObjects",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    ProviderId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    Label = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false, collation: "C"),
                    DatasetId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    AcquisitionDate = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Platform = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true, collation: "C"),
                    Instrument = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true, collation: "C"),
                    ProcessingLevel = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataObjects", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DataObjects_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DatasetTasks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrderId = table.Column<long>(type: "bigint", nullable: false),
                    DatasetId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    DatasetLabel = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    SelectionRequests = table.Column<string>(type: "text", nullable: false),
                    FileFilter = table.Column<string>(type: "text", nullable: true),
                    Processing = table.Column<string>(type: "text", nullable: true),
                    ObjectsCount = table.Column<int>(type: "integer", nullable: false),
                    FilesCount = table.Column<int>(type: "integer", nullable: false),
                    FilesSize = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DatasetTasks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DatasetTasks_Orders_OrderId",
                        column: x => x.OrderId,
                        principalTable: "Orders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SubOrders",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrderId = table.Column<long>(type: "bigint", nullable: false),
                    Owner = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false, collation: "C"),
                    DatasetTaskId = table.Column<long>(type: "bigint", nullable: true),
                    Sequence = table.Column<int>(type: "integer", nullable: false),
                    External = table.Column<bool>(type: "boolean", nullable: false),
                    Ended = table.Column<bool>(type: "boolean", nullable: false),
                    WaitingForUser = table.Column<bool>(type: "boolean", nullable: false),
                    JobState = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Priority = table.Column<int>(type: "integer", nullable: false),
                    QueuedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    StagingStartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    StagedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LeaseOwner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true, collation: "C"),
                    LeaseExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SubOrders", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SubOrders_Orders_OrderId",
                        column: x => x.OrderId,
                        principalTable: "Orders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "BasketItemSelections",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DatasetSelectionId = table.Column<long>(type: "bigint", nullable: false),
                    Date = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Request = table.Column<string>(type: "text", nullable: false),
                    ObjectsCount = table.Column<int>(type: "integer", nullable: false),
                    FilesCount = table.Column<int>(type: "integer", nullable: false),
                    FilesSize = table.Column<long>(type: "bigint", nullable: false),
                    Quota = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BasketItemSelections", x => x.Id);
                    table.ForeignKey(
                        name: "FK_BasketItemSelections_BasketDatasetSelections_DatasetSelecti~",
                        column: x => x.DatasetSelectionId,
                        principalTable: "BasketDatasetSelections",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "BasketObjects",
                columns: table => new
                {
                    DatasetSelectionId = table.Column<long>(type: "bigint", nullable: false),
                    DataObjectId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    ItemDate = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BasketObjects", x => new { x.DatasetSelectionId, x.DataObjectId });
                    table.ForeignKey(
                        name: "FK_BasketObjects_BasketDatasetSelections_DatasetSelectionId",
                        column: x => x.DatasetSelectionId,
                        principalTable: "BasketDatasetSelections",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DataFiles",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    DataObjectId = table.Column<string>(type: "character varying(200)", nullable: false, collation: "C"),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false, collation: "C"),
                    Size = table.Column<long>(type: "bigint", nullable: true),
                    MimeType = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    DataType = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Checksum = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    Md5 = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    Tier = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Location = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataFiles", x => x.Id);
                    table.ForeignKey(
                        name: "FK_DataFiles_DataObjects_DataObjectId",
                        column: x => x.DataObjectId,
                        principalTable: "DataObjects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "OrderFiles",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    PublicId = table.Column<Guid>(type: "uuid", nullable: false),
                    OrderId = table.Column<long>(type: "bigint", nullable: false),
                    SubOrderId = table.Column<long>(type: "bigint", nullable: false),
                    DatasetTaskId = table.Column<long>(type: "bigint", nullable: false),
                    DataObjectId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    ProviderId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false, collation: "C"),
                    Name = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false, collation: "C"),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    MimeType = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    Checksum = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    Md5 = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    DataType = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Tier = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    Location = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false, collation: "C"),
                    State = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    DownloadError = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true, collation: "C"),
                    DownloadedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_OrderFiles", x => x.Id);
                    table.ForeignKey(
                        name: "FK_OrderFiles_Orders_OrderId",
                        column: x => x.OrderId,
                        principalTable: "Orders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_OrderFiles_SubOrders_SubOrderId",
                        column: x => x.SubOrderId,
                        principalTable: "SubOrders",
                        principalColumn: "Id");
                });

            migrationBuilder.CreateIndex(
                name: "IX_AspNetRoleClaims_RoleId",
                table: "AspNetRoleClaims",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "RoleNameIndex",
                table: "AspNetRoles",
                column: "NormalizedName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserClaims_UserId",
                table: "AspNetUserClaims",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserLogins_UserId",
                table: "AspNetUserLogins",
                column: "UserId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUserRoles_RoleId",
                table: "AspNetUserRoles",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "EmailIndex",
                table: "AspNetUsers",
                column: "NormalizedEmail");

            migrationBuilder.CreateIndex(
                name: "UserNameIndex",
                table: "AspNetUsers",
                column: "NormalizedUserName",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AttemptCounters_LastAt",
                table: "AttemptCounters",
                column: "LastAt");

            migrationBuilder.CreateIndex(
                name: "IX_BasketDatasetSelections_BasketId",
                table: "BasketDatasetSelections",
                column: "BasketId");

            migrationBuilder.CreateIndex(
                name: "IX_BasketItemSelections_DatasetSelectionId_Date",
                table: "BasketItemSelections",
                columns: new[] { "DatasetSelectionId", "Date" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_BasketObjects_DatasetSelectionId_ItemDate",
                table: "BasketObjects",
                columns: new[] { "DatasetSelectionId", "ItemDate" });

            migrationBuilder.CreateIndex(
                name: "IX_Baskets_Owner_OrderId",
                table: "Baskets",
                columns: new[] { "Owner", "OrderId" });

            migrationBuilder.CreateIndex(
                name: "IX_DataFiles_DataObjectId",
                table: "DataFiles",
                column: "DataObjectId");

            migrationBuilder.CreateIndex(
                name: "IX_DataObjects_DatasetId_AcquisitionDate",
                table: "DataObjects",
                columns: new[] { "DatasetId", "AcquisitionDate" });

            migrationBuilder.CreateIndex(
                name: "IX_DataObjects_ProviderId",
                table: "DataObjects",
                column: "ProviderId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DatasetTasks_OrderId",
                table: "DatasetTasks",
                column: "OrderId");

            migrationBuilder.CreateIndex(
                name: "IX_OrderFiles_DatasetTaskId_Id",
                table: "OrderFiles",
                columns: new[] { "DatasetTaskId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_OrderFiles_OrderId_State",
                table: "OrderFiles",
                columns: new[] { "OrderId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_OrderFiles_PublicId",
                table: "OrderFiles",
                column: "PublicId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_OrderFiles_SubOrderId_State",
                table: "OrderFiles",
                columns: new[] { "SubOrderId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_Orders_BasketId",
                table: "Orders",
                column: "BasketId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Orders_CreationDate",
                table: "Orders",
                column: "CreationDate");

            migrationBuilder.CreateIndex(
                name: "IX_Orders_Owner_CreationDate",
                table: "Orders",
                columns: new[] { "Owner", "CreationDate" });

            migrationBuilder.CreateIndex(
                name: "IX_Orders_Owner_Label",
                table: "Orders",
                columns: new[] { "Owner", "Label" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Orders_Status_CreationDate",
                table: "Orders",
                columns: new[] { "Status", "CreationDate" });

            migrationBuilder.CreateIndex(
                name: "IX_OutboxMails_GaveUp_NextAttemptAt",
                table: "OutboxMails",
                columns: new[] { "GaveUp", "NextAttemptAt" });

            migrationBuilder.CreateIndex(
                name: "IX_SubOrders_JobState_Owner",
                table: "SubOrders",
                columns: new[] { "JobState", "Owner" });

            migrationBuilder.CreateIndex(
                name: "IX_SubOrders_OrderId_Sequence",
                table: "SubOrders",
                columns: new[] { "OrderId", "Sequence" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AccessGroups");

            migrationBuilder.DropTable(
                name: "AspNetRoleClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserClaims");

            migrationBuilder.DropTable(
                name: "AspNetUserLogins");

            migrationBuilder.DropTable(
                name: "AspNetUserRoles");

            migrationBuilder.DropTable(
                name: "AspNetUserTokens");

            migrationBuilder.DropTable(
                name: "AttemptCounters");

            migrationBuilder.DropTable(
                name: "BasketItemSelections");

            migrationBuilder.DropTable(
                name: "BasketObjects");

            migrationBuilder.DropTable(
                name: "DataFiles");

            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "DatasetAccessRights");

            migrationBuilder.DropTable(
                name: "DatasetTasks");

            migrationBuilder.DropTable(
                name: "JobLeases");

            migrationBuilder.DropTable(
                name: "OrderFiles");

            migrationBuilder.DropTable(
                name: "OutboxMails");

            migrationBuilder.DropTable(
                name: "PortalSettings");

            migrationBuilder.DropTable(
                name: "ProcessingSettings");

            migrationBuilder.DropTable(
                name: "UiModuleSettings");

            migrationBuilder.DropTable(
                name: "UserAccessGroups");

            migrationBuilder.DropTable(
                name: "AspNetRoles");

            migrationBuilder.DropTable(
                name: "AspNetUsers");

            migrationBuilder.DropTable(
                name: "BasketDatasetSelections");

            migrationBuilder.DropTable(
                name: "DataObjects");

            migrationBuilder.DropTable(
                name: "SubOrders");

            migrationBuilder.DropTable(
                name: "Baskets");

            migrationBuilder.DropTable(
                name: "Datasets");

            migrationBuilder.DropTable(
                name: "Orders");
        }
    }
}
