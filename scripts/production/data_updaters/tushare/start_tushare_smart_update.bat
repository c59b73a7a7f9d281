@echo off
rem Tushare smart incremental update (Windows task scheduler). Runs from the repository root so that the
rem scheduling file scripts\production\config\tushare_update_config.yaml is found; takes the original's
rem positional form (workers retries delay log_level, e.g. 5 3 5 INFO) or flags and passes them on, and returns the update's exit code (0 ok, 1 some task failed, 2 bad usage/configuration).
setlocal
set "HERE=%~dp0"
pushd "%HERE%..\..\..\.."
if "%PYTHON%"=="" set "PYTHON=python"
"%PYTHON%" "%HERE%tushare_smart_update_production.py" %*
set "CODE=%ERRORLEVEL%"
popd
exit /b %CODE%
