#!/usr/bin/env bash
# Rebuilds the single "Initial" migration of the three providers from the current model.
# Only for the first migration: later schema changes are added as new migrations (dotnet ef migrations add X for each
# of the three contexts). "./regenerate.sh PostgreSql" rebuilds one provider's set only (PostgreSQL came later: its set
# starts at an Initial made from the model of its day, while the other two keep their history).
set -euo pipefail
cd "$(dirname "$0")/../../.."
dotnet tool restore >/dev/null
providers=("$@")
[ ${#providers[@]} -eq 0 ] && providers=(Sqlite SqlServer PostgreSql)
for provider in "${providers[@]}"; do
  rm -rf "Regards.Portal/Data/Migrations/$provider"
done
dotnet build Regards.Portal -v q -nologo >/dev/null
for provider in "${providers[@]}"; do
  dotnet ef migrations add Initial --no-build --project Regards.Portal --context "${provider}PortalDbContext" --output-dir "Data/Migrations/$provider"
done
dotnet build Regards.Portal -v q -nologo >/dev/null
