"""Imported first by the forecasting forkserver (forecasting.parallel.PRELOAD), never by
the caller: the forkserver and the workers it forks start with no signal blocked and the
default SIGTERM, whatever the caller's process inherited.

Both were met in CI, where test workers handed their subprocesses a blocked SIGCHLD (the
forkserver never reaped a finished worker, so the pool's join waited forever) or an
ignored SIGTERM (Pool.terminate could not end idle workers, same wait). Ignored signals
survive exec, and a spawned process starts with its parent thread's mask.
"""

import signal

signal.pthread_sigmask(signal.SIG_SETMASK, [])
signal.signal(signal.SIGTERM, signal.SIG_DFL)
