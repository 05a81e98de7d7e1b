"""The booking service over HTTP: `booking serve` (an ASGI app in several uvicorn worker processes) and
the contract HTTP buyers race it by (`booking simulate --target URL`). Starlette and uvicorn are an
extra (`pip install 'booking-race-lab[service]'`): nothing here is imported unless a service is used."""
