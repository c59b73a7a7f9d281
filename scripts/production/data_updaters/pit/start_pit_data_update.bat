@echo off
rem Launcher for the Windows task scheduler: the PIT update (default: every target, incremental).
rem Takes the original's positional form, e.g.  start_pit_data_update.bat income full true
rem (target, mode, parallel), or flags, e.g.  start_pit_data_update.bat --target income --mode full
setlocal
set "HERE=%~dp0"
if "%PYTHON%"=="" set "PYTHON=python"
"%PYTHON%" "%HERE%pit_data_update_production.py" %*
exit /b %ERRORLEVEL%
