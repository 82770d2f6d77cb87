<#
.SYNOPSIS
  Create AdSpark's role and database on a local PostgreSQL (Windows), write DATABASE_URL to .env,
  migrate, and create the default periodic tasks. Idempotent.
.DESCRIPTION
  Needs psql.exe on PATH (PostgreSQL's bin folder, e.g. C:\Program Files\PostgreSQL\16\bin).
  The superuser's password comes from $env:PGPASSWORD (or psql prompts for it).
  Twin of setup_local_db.sh.
.EXAMPLE
  .\setup_local_db.ps1
.EXAMPLE
  $env:PGPASSWORD = 'postgres-superuser-password'; .\setup_local_db.ps1 -Password 'adspark-password'
#>
param(
    [ValidatePattern('^[A-Za-z_][A-Za-z0-9_]*$')][string]$Db = 'adspark',
    [ValidatePattern('^[A-Za-z_][A-Za-z0-9_]*$')][string]$User = 'adspark',
    [string]$Password = $env:ADSPARK_DB_PASSWORD,
    [string]$DbHost = '127.0.0.1',
    [int]$Port = 5432,
    [string]$AdminUser = 'postgres',
    [string]$EnvFile = (Join-Path $PSScriptRoot '.env'),
    [switch]$NoMigrate
)
$ErrorActionPreference = 'Stop'
$RepoDir = $PSScriptRoot
if (-not (Get-Command psql -ErrorAction SilentlyContinue)) {
    throw 'psql not found: add PostgreSQL''s bin folder to PATH'
}
$VenvPython = Join-Path $RepoDir '.venv\Scripts\python.exe'
$Python = if (Test-Path $VenvPython) { $VenvPython } else { 'python' }

# SQL goes to psql on standard input (-f -), never on its command line: the role's password is
# part of it, and a process's command line is visible to every local user. The superuser's own
# password comes from $env:PGPASSWORD (or a pgpass file), never from an argument either.
function Invoke-Psql([string]$Sql, [string]$Shown = $Sql) {
    $out = $Sql | & psql -v ON_ERROR_STOP=1 -X -q -t -A -h $DbHost -p $Port -U $AdminUser -d postgres -f -
    if ($LASTEXITCODE -ne 0) { throw "psql failed: $Shown" }
    return ($out | Out-String).Trim()
}

if ((Invoke-Psql "SELECT 1 FROM pg_roles WHERE rolname = '$User'") -eq '1') {
    Write-Host "role $User exists"
} else {
    Invoke-Psql "CREATE ROLE `"$User`" LOGIN" | Out-Null
    Write-Host "role $User created"
}
if ($Password) {
    $quoted = $Password.Replace("'", "''")
    Invoke-Psql "ALTER ROLE `"$User`" PASSWORD '$quoted'" "ALTER ROLE `"$User`" PASSWORD '***'" | Out-Null
}
if ((Invoke-Psql "SELECT 1 FROM pg_database WHERE datname = '$Db'") -eq '1') {
    Write-Host "database $Db exists"
} else {
    Invoke-Psql "CREATE DATABASE `"$Db`" OWNER `"$User`"" | Out-Null
    Write-Host "database $Db created (owner $User)"
}

$userInfo = if ($Password) { "${User}:$([uri]::EscapeDataString($Password))" } else { $User }
$url = "postgres://$userInfo@${DbHost}:$Port/$Db"
$lines = @()
if (Test-Path $EnvFile) { $lines = @(Get-Content $EnvFile | Where-Object { $_ -notmatch '^DATABASE_URL=' }) }
else { $lines = @('DJANGO_DEBUG=true') }
$lines += "DATABASE_URL=$url"
Set-Content -Path $EnvFile -Value $lines -Encoding utf8
Write-Host "wrote DATABASE_URL for $User@${DbHost}:$Port/$Db to $EnvFile"

if (-not $NoMigrate) {
    $env:DATABASE_URL = $url
    Push-Location (Join-Path $RepoDir 'backend')
    try {
        & $Python manage.py migrate --noinput
        if ($LASTEXITCODE -ne 0) { throw 'migrate failed' }
        & $Python manage.py help setup_periodic_tasks *> $null
        if ($LASTEXITCODE -eq 0) {
            & $Python manage.py setup_periodic_tasks
            if ($LASTEXITCODE -ne 0) { throw 'setup_periodic_tasks failed' }
        } else {
            Write-Host 'manage.py setup_periodic_tasks does not exist yet: no default periodic tasks created'
        }
    } finally { Pop-Location }
}
Write-Host "done: the database is ready ($Db on ${DbHost}:$Port)"
