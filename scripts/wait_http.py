"""Waits until a server started in the background answers HTTP at URL (any status will do).

    wait_http.py NAME URL PID [TIMEOUT_SECONDS]

Polls every 50 ms until TIMEOUT (default 60 s); fails at once if process PID has exited,
so a server that dies at startup is reported without waiting out the deadline.
Prints how long the server took to answer.
"""

import os
import sys
import time
import urllib.error
import urllib.request


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child that exited but was not reaped yet is a zombie: dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def main() -> None:
    name, url, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    start = time.monotonic()
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except urllib.error.HTTPError:
            break  # an HTTP answer, whatever its status: the server is up
        except Exception:
            pass
        if not alive(pid):
            sys.exit(f"{name} (pid {pid}) exited before answering at {url}")
        if time.monotonic() - start > timeout:
            sys.exit(f"{name} did not answer at {url} within {timeout:.0f} s")
        time.sleep(0.05)
    print(f"{name} answered at {url} after {time.monotonic() - start:.1f} s (pid {pid})")


if __name__ == "__main__":
    main()
