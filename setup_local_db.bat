@echo off
rem Seed path: setup_local_db.bat runs setup_local_db.ps1 (same folder) with the same arguments,
rem e.g. setup_local_db.bat -Password adspark-password. See setup_local_db.ps1 for what it does.
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0setup_local_db.ps1" %*
exit /b %ERRORLEVEL%
