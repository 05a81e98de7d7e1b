from booking.cli import run

run()
