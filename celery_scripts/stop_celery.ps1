<#
.SYNOPSIS
  Stop the workers, beat and Flower started by the celery_scripts\*.ps1.
.DESCRIPTION
  Windows has no SIGTERM for console processes started hidden: the processes are stopped with
  Stop-Process. Tasks that were running are not lost: with acks_late their messages return to
  the queue (after the visibility timeout) and another worker runs them.
.EXAMPLE
  .\celery_scripts\stop_celery.ps1
#>
. (Join-Path $PSScriptRoot '_common.ps1')
$pidFiles = Get-ChildItem -Path $RunDir -Filter 'celery-*.pid' -ErrorAction SilentlyContinue
if (-not $pidFiles) { Write-Host "nothing to stop (no pid files in $RunDir)"; exit 0 }
foreach ($file in $pidFiles) {
    $name = $file.BaseName
    $id = Get-PidFromFile $file.FullName
    if ($id -and (Get-Process -Id $id -ErrorAction SilentlyContinue)) {
        Stop-Process -Id $id -Force
        Write-Host "${name}: stopped (pid $id)"
    } else {
        Write-Host "${name}: not running (stale pid file removed)"
    }
    Remove-Item $file.FullName -Force
}
