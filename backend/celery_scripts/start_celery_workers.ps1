# Seed path: the Celery scripts live in celery_scripts\ at the repository's top level; this runs
# the one with the same name, with the same arguments and exit code (see its -Help).
& (Join-Path $PSScriptRoot "..\..\celery_scripts\$($MyInvocation.MyCommand.Name)") @args
exit $LASTEXITCODE
