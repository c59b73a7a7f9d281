@echo off
rem Launcher for the Windows task scheduler: the PIT update with the production defaults.
rem Extra flags are passed through, e.g.  start_pit_data_update.bat --mode full
setlocal
set "HERE=%~dp0"
if "%PYTHON%"=="" set "PYTHON=python"
"%PYTHON%" "%HERE%pit_data_update_production.py" --target all --mode incremental --parallel --workers 2 %*
exit /b %ERRORLEVEL%
