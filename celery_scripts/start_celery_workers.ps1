<#
.SYNOPSIS
  Start AdSpark's four Celery workers on Windows, one per queue, with the threads pool.
.DESCRIPTION
  The prefork pool fails on Windows (PermissionError: [WinError 5]); these workers use
  -P threads with the concurrency of docs/architecture.md: default 2, data_fetch 2, ai_generation 1,
  maintenance 1. Pid files: var\run\celery-worker-<queue>.pid; logs: var\log\celery-worker-<queue>.log.
  One worker for all queues instead (the seed's command):
    cd backend; celery -A backend.celery worker -P threads -c 4 -l info -Q default,data_fetch,ai_generation,maintenance --without-gossip --without-mingle --without-heartbeat
.PARAMETER Queues
  Start only these queues (default: all four).
.PARAMETER LogLevel
  debug, info (default), warning or error.
.EXAMPLE
  .\celery_scripts\start_celery_workers.ps1
.EXAMPLE
  .\celery_scripts\start_celery_workers.ps1 -Queues data_fetch
#>
param(
    [string[]]$Queues = @(),
    [ValidateSet('debug', 'info', 'warning', 'error')][string]$LogLevel = 'info'
)
. (Join-Path $PSScriptRoot '_common.ps1')
Initialize-Dirs
foreach ($queue in $WorkerTable.Keys) {
    if ($Queues.Count -gt 0 -and $Queues -notcontains $queue) { continue }
    $threads = $WorkerTable[$queue]
    Start-Celery "celery-worker-$queue" @(
        'worker', '-P', 'threads', '-c', "$threads", '-Q', $queue, '-n', "$queue@%h", '-l', $LogLevel,
        '--without-gossip', '--without-mingle'
    )
}
