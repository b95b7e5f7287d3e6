"""A scriptable SMTP server for the outbound queue tests (asyncio, in a
thread of its own).

It plays a remote MX: replies can be set per stage and per recipient
(lists are used up one reply per attempt, the last one repeats), the
final reply can be held back until the test releases it, and every
message it accepts is recorded as (sender, recipients, data). Like a real
server, a message whose connection closes before the final reply is sent
is discarded (RFC 5321 4.1.1.4).
"""
import asyncio
import threading


class FakeSmtp:
    def __init__(self, host, port, ehlo=("PIPELINING", "8BITMIME", "SIZE 100000000"),
                 greeting=(220, "fake.test ESMTP")):
        self.host, self.port = host, port
        self.ehlo = list(ehlo)
        self.greeting = greeting
        self.mail_replies = []          # [(code, text)], default 250
        self.rcpt_replies = {}          # address -> [(code, text)], default 250
        self.final_replies = []         # default 250
        self.stall = None               # threading.Event: hold the final reply until set
        self.messages = []              # (sender, [rcpts], data bytes)
        self.discarded = 0
        self.connections = 0
        self.commands = []
        self.auth = []                  # AUTH arguments received
        self.stalled = threading.Event()  # set while a final reply is held back
        self._loop = None
        self._server = None
        self._thread = None

    @staticmethod
    def _next(replies, default=(250, "2.0.0 ok")):
        if not replies:
            return default
        return replies.pop(0) if len(replies) > 1 else replies[0]

    # -- protocol ------------------------------------------------------------
    async def _reply(self, writer, code, text):
        writer.write(("%d %s\r\n" % (code, text)).encode())
        await writer.drain()

    async def _data(self, reader):
        lines = []
        while True:
            line = await reader.readline()
            if not line:
                return None
            if line == b".\r\n":
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b".") else line)

    async def _final(self, reader, writer, sender, rcpts, data):
        if self.stall is not None:
            self.stalled.set()
            eof = asyncio.ensure_future(reader.read(1))
            while not self.stall.is_set():
                if eof.done():
                    self.discarded += 1   # the client went away before the reply
                    return False
                await asyncio.sleep(0.02)
            eof.cancel()
        code, text = self._next(self.final_replies)
        try:
            await self._reply(writer, code, text)
        except ConnectionError:
            self.discarded += 1
            return False
        if code // 100 == 2:
            self.messages.append((sender, list(rcpts), data))
        return True

    async def _session(self, reader, writer):
        self.connections += 1
        sender, rcpts = None, []
        await self._reply(writer, *self.greeting)
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            self.commands.append(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                lines = ["fake.test hello"] + self.ehlo
                writer.write("".join("250%s%s\r\n" % ("-" if i < len(lines) - 1 else " ", l)
                                     for i, l in enumerate(lines)).encode())
                await writer.drain()
            elif verb == "AUTH" and cmd[5:].upper() == "LOGIN":
                answers = []
                for prompt in ("VXNlcm5hbWU6", "UGFzc3dvcmQ6"):
                    await self._reply(writer, 334, prompt)
                    answers.append((await reader.readline()).decode().strip())
                self.auth.append("LOGIN " + " ".join(answers))
                await self._reply(writer, 235, "2.7.0 authenticated")
            elif verb == "AUTH":
                self.auth.append(cmd[5:])
                await self._reply(writer, 235, "2.7.0 authenticated")
            elif verb in ("HELO", "NOOP"):
                await self._reply(writer, 250, "ok")
            elif verb == "RSET":
                sender, rcpts = None, []
                await self._reply(writer, 250, "ok")
            elif verb == "MAIL":
                code, text = self._next(self.mail_replies)
                if code // 100 == 2:
                    sender, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                await self._reply(writer, code, text)
            elif verb == "RCPT":
                addr = cmd[8:].split(">")[0].lstrip("<")
                code, text = self._next(self.rcpt_replies.get(addr, []))
                if code // 100 == 2 and sender is not None:
                    rcpts.append(addr)
                await self._reply(writer, code, text)
            elif verb == "DATA":
                if sender is None or not rcpts:
                    await self._reply(writer, 554, "5.5.1 no valid recipients")
                    continue
                await self._reply(writer, 354, "go ahead")
                data = await self._data(reader)
                if data is None or not await self._final(reader, writer, sender, rcpts, data):
                    break
                sender, rcpts = None, []
            elif verb == "QUIT":
                await self._reply(writer, 221, "bye")
                break
            else:
                await self._reply(writer, 502, "5.5.2 unknown command")
        writer.close()

    # -- process -------------------------------------------------------------
    def start(self):
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._session, self.host, self.port))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self):
        if self._loop is None:
            return

        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    def recipients(self):
        """Every recipient of every accepted message, with repeats."""
        return [r for _, rcpts, _ in self.messages for r in rcpts]
