<#
.SYNOPSIS
  Start Flower on Windows behind basic auth (FLOWER_BASIC_AUTH=user:password).
.DESCRIPTION
  backend\flowerconfig.py refuses to start without FLOWER_BASIC_AUTH (environment or .env), or
  with an empty user or password; /metrics needs the login too.
  Pid file var\run\celery-flower.pid, log var\log\celery-flower.log.
.EXAMPLE
  $env:FLOWER_BASIC_AUTH = 'admin:long-password'; .\celery_scripts\start_celery_flower.ps1 -Port 5555
#>
param([int]$Port = 5555, [string]$Address = $(if ($env:FLOWER_ADDRESS) { $env:FLOWER_ADDRESS } else { '127.0.0.1' }))
. (Join-Path $PSScriptRoot '_common.ps1')
Initialize-Dirs
Start-Celery 'celery-flower' @('flower', '--conf=flowerconfig.py', "--address=$Address", "--port=$Port")
