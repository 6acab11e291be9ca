#!/usr/bin/env bash
# Rebuilds the single "Initial" migration of both providers from the current model.
# Only for the first migration: later schema changes are added as new migrations (dotnet ef migrations add X for both contexts).
set -euo pipefail
cd "$(dirname "$0")/../../.."
dotnet tool restore >/dev/null
rm -rf Regards.Portal/Data/Migrations/Sqlite Regards.Portal/Data/Migrations/SqlServer
dotnet build Regards.Portal -v q -nologo >/dev/null
dotnet ef migrations add Initial --no-build --project Regards.Portal --context SqlitePortalDbContext --output-dir Data/Migrations/Sqlite
dotnet ef migrations add Initial --no-build --project Regards.Portal --context SqlServerPortalDbContext --output-dir Data/Migrations/SqlServer
dotnet build Regards.Portal -v q -nologo >/dev/null
