# Shared by the celery_scripts\*.ps1 (dot-sourced). Windows: prefork fails there
# (PermissionError: [WinError 5]), so every worker runs the threads pool (-P threads).
$ErrorActionPreference = 'Stop'
$RepoDir = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
$BackendDir = Join-Path $RepoDir 'backend'
$VarDir = if ($env:ADSPARK_VAR_DIR) { $env:ADSPARK_VAR_DIR } else { Join-Path $RepoDir 'var' }
$RunDir = Join-Path $VarDir 'run'
$LogDir = Join-Path $VarDir 'log'
$VenvPython = Join-Path $RepoDir '.venv\Scripts\python.exe'
$Python = if ($env:PYTHON) { $env:PYTHON } elseif (Test-Path $VenvPython) { $VenvPython } else { 'python' }
$env:PYTHONPATH = if ($env:PYTHONPATH) { "$BackendDir;$env:PYTHONPATH" } else { $BackendDir }

# Queue -> threads: docs/architecture.md "Queues and workers" (the same table as docker-compose.yml).
$WorkerTable = [ordered]@{ default = 2; data_fetch = 2; ai_generation = 1; maintenance = 1 }

function Initialize-Dirs { New-Item -ItemType Directory -Force -Path $RunDir, $LogDir | Out-Null }

function Get-PidFromFile([string]$Path) {
    if (-not (Test-Path $Path)) { return $null }
    $text = (Get-Content $Path -Raw).Trim()
    if ($text -match '^\d+$') { return [int]$text } else { return $null }
}

function Test-PidFile([string]$Path) {
    $id = Get-PidFromFile $Path
    return ($null -ne $id) -and ($null -ne (Get-Process -Id $id -ErrorAction SilentlyContinue))
}

# Start-Celery NAME ARGS: celery -A backend ARGS in the background, pid in var\run\NAME.pid.
function Start-Celery([string]$Name, [string[]]$CeleryArgs) {
    $pidFile = Join-Path $RunDir "$Name.pid"
    if (Test-PidFile $pidFile) {
        Write-Host "$Name already running (pid $(Get-PidFromFile $pidFile))"
        return
    }
    $log = Join-Path $LogDir "$Name.log"
    # Celery writes its own log to var\log\NAME.log (--logfile; Flower: --log-file-prefix), so
    # the log the docs name holds everything Celery logs. Start-Process cannot send stdout and
    # stderr to one file: what Python prints before logging starts (an import error, a bad
    # setting) lands in NAME.console.log / NAME.console.err.log.
    $logOption = if ($CeleryArgs[0] -eq 'flower') { "--log-file-prefix=$log" } else { "--logfile=$log" }
    $arguments = @('-m', 'celery', '-A', 'backend') + $CeleryArgs + @($logOption)
    $console = Join-Path $LogDir "$Name.console.log"
    $process = Start-Process -FilePath $Python -ArgumentList $arguments -WorkingDirectory $BackendDir `
        -RedirectStandardOutput $console -RedirectStandardError "$console.err" -WindowStyle Hidden -PassThru
    Set-Content -Path $pidFile -Value $process.Id
    Start-Sleep -Seconds 2
    if ($process.HasExited) { throw "$Name exited with code $($process.ExitCode); see $log, $console and $console.err" }
    Write-Host "$Name started: pid $($process.Id), log $log"
}
