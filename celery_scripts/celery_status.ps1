<#
.SYNOPSIS
  AdSpark's Celery status on Windows: local processes, workers per queue, queue depths, beat.
.DESCRIPTION
  Lists the processes recorded in var\run, then runs monitor_celery.py --check --no-probe.
  Exit code is the monitor's: 0 healthy, 1 degraded, 2 down.
.PARAMETER Json
  Machine-readable output (monitor_celery.py --json) only.
.PARAMETER Probe
  Also send a probe task to each queue.
#>
param([switch]$Json, [switch]$Probe)
. (Join-Path $PSScriptRoot '_common.ps1')
if (-not $Json) {
    Write-Host "local processes ($RunDir):"
    $pidFiles = Get-ChildItem -Path $RunDir -Filter 'celery-*.pid' -ErrorAction SilentlyContinue
    if (-not $pidFiles) { Write-Host '  none started by celery_scripts' }
    foreach ($file in $pidFiles) {
        $state = if (Test-PidFile $file.FullName) { "running (pid $(Get-PidFromFile $file.FullName))" } else { 'STOPPED (stale pid file)' }
        Write-Host "  $($file.BaseName) $state"
    }
    Write-Host ''
}
$arguments = @((Join-Path $RepoDir 'monitor_celery.py'), '--check')
if (-not $Probe) { $arguments += '--no-probe' }
if ($Json) { $arguments += '--json' }
& $Python @arguments
exit $LASTEXITCODE
