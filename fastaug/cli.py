"""Command-line interface (placeholder replaced below)."""
def main(argv=None):
    return 0
