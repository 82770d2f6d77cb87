<#
.SYNOPSIS
  Start celery beat (django-celery-beat's DatabaseScheduler) on Windows. Run exactly one.
.DESCRIPTION
  Pid file var\run\celery-beat.pid, log var\log\celery-beat.log. Refuses a second beat while the
  pid file names a live process (two beats send every periodic task twice).
.EXAMPLE
  .\celery_scripts\start_celery_beat.ps1
#>
param([ValidateSet('debug', 'info', 'warning', 'error')][string]$LogLevel = 'info')
. (Join-Path $PSScriptRoot '_common.ps1')
Initialize-Dirs
Start-Celery 'celery-beat' @('beat', '-l', $LogLevel, '--scheduler', 'django_celery_beat.schedulers:DatabaseScheduler')
