<#
.SYNOPSIS
  Start Flower on Windows behind basic auth (FLOWER_BASIC_AUTH=user:password).
.DESCRIPTION
  Refuses to start without FLOWER_BASIC_AUTH (from the environment or .env).
  Pid file var\run\celery-flower.pid, log var\log\celery-flower.log.
.EXAMPLE
  $env:FLOWER_BASIC_AUTH = 'admin:long-password'; .\celery_scripts\start_celery_flower.ps1 -Port 5555
#>
param([int]$Port = 5555, [string]$Address = '127.0.0.1')
. (Join-Path $PSScriptRoot '_common.ps1')
if (-not $env:FLOWER_BASIC_AUTH) {
    $envFile = Join-Path $RepoDir '.env'
    if (Test-Path $envFile) {
        $line = Select-String -Path $envFile -Pattern '^FLOWER_BASIC_AUTH=(.+)$' | Select-Object -Last 1
        if ($line) { $env:FLOWER_BASIC_AUTH = $line.Matches[0].Groups[1].Value }
    }
}
if ($env:FLOWER_BASIC_AUTH -notmatch ':') {
    Write-Error 'FLOWER_BASIC_AUTH=user:password is required (Flower must not run without auth)'
    exit 2
}
Initialize-Dirs
Start-Celery 'celery-flower' @('flower', "--address=$Address", "--port=$Port")
