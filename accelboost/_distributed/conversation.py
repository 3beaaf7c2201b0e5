"""A function that pauses at each message it sends, until it gets a reply.

A shard runs a whole stage (the policy's plan, grow and restart rule: the
in-memory code, unchanged) while the driver answers its collective
requests (grow a tree, sum a loss over all rows). The stage runs in a
thread of its own; ``exchange`` hands a message to whoever called
``start`` or ``resume`` and blocks until the next ``resume`` brings the
reply. Only one side runs at a time, so nothing is shared concurrently.
"""

from __future__ import annotations

import queue
import threading

#: Seconds a paused stage waits for its reply before it gives up (the
#: driver died or went away): the thread must not outlive the fit.
REPLY_TIMEOUT = 600.0


class ConversationClosed(Exception):
    """Raised inside the paused function when the driver closes the talk."""


class Conversation:
    """Run ``function(exchange, *args)`` in a thread, one message at a time.

    Parameters
    ----------
    function : callable
        Called as ``function(exchange, *args)``; ``exchange(message)``
        returns the reply to ``message``.
    *args
        Its other arguments.
    """

    def __init__(self, function, *args):
        self._function = function
        self._args = args
        self._to_function = queue.Queue(maxsize=1)
        self._from_function = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="accelboost-stage")

    def _run(self):
        try:
            result = self._function(self._exchange, *self._args)
        except ConversationClosed:
            return
        except BaseException as exc:  # handed to the caller, who raises it
            self._from_function.put(("error", exc))
            return
        self._from_function.put(("result", result))

    def _exchange(self, message):
        self._from_function.put(("message", message))
        try:
            kind, reply = self._to_function.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            raise ConversationClosed from None
        if kind == "close":
            raise ConversationClosed
        return reply

    def _next(self):
        kind, value = self._from_function.get()
        if kind == "error":
            raise value
        return kind == "result", value

    def start(self):
        """Run the function to its first message.

        Returns
        -------
        finished : bool
            Whether the function returned (``value`` is its result) instead
            of sending a message.
        value : object
        """
        self._thread.start()
        return self._next()

    def resume(self, reply):
        """Reply to the last message and run to the next one (see ``start``)."""
        self._to_function.put(("reply", reply))
        return self._next()

    def close(self):
        """Stop a paused function (it raises ``ConversationClosed``)."""
        if self._thread.is_alive():
            self._to_function.put(("close", None))
            self._thread.join(timeout=10.0)
