"""WS-Management framing of PowerShell Remoting (MS-WSMV), the part psrpcore leaves to its user: read a
SOAP request, write the responses and faults a Windows host sends.

Only what a PSRP client uses is known here: Create, Command, Send, Receive, Signal, Delete on the
PowerShell resource URI. Every response carries RelatesTo = the request's MessageID (pypsrp checks it).
"""

import base64
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wsmanfault": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "wst": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
POWERSHELL_URI = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
ACTIONS = {
    TRANSFER + "Create": "Create",
    TRANSFER + "Delete": "Delete",
    SHELL_URI + "/Command": "Command",
    SHELL_URI + "/Send": "Send",
    SHELL_URI + "/Receive": "Receive",
    SHELL_URI + "/Signal": "Signal",
}
RESPONSE_ACTIONS = {
    "Create": TRANSFER + "CreateResponse",
    "Delete": TRANSFER + "DeleteResponse",
    "Command": SHELL_URI + "/CommandResponse",
    "Send": SHELL_URI + "/SendResponse",
    "Receive": SHELL_URI + "/ReceiveResponse",
    "Signal": SHELL_URI + "/SignalResponse",
}
SIGNAL_TERMINATE = SHELL_URI + "/signal/terminate"
SIGNAL_CTRL_C = "powershell/signal/crtl_c"  # sic: the protocol's own spelling
COMMAND_DONE = SHELL_URI + "/CommandState/Done"
COMMAND_RUNNING = SHELL_URI + "/CommandState/Running"

# WSMan fault codes a Windows host answers (MS-WSMV / winerror.h)
OPERATION_TIMEOUT = 2150858793  # ERROR_WSMAN_OPERATION_TIMEDOUT: the client polls again
INVALID_SELECTORS = 2150858843  # ERROR_WSMAN_INVALID_SELECTORS: no such shell
ACTION_NOT_SUPPORTED = 2150858771  # ERROR_WSMAN_ACTION_NOT_SUPPORTED
BAD_REQUEST = 2150858817  # ERROR_WSMAN_INVALID_XML (a body that is not a WSMan message)

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


class WsmanFault(Exception):
    """A SOAP fault answer: HTTP 500 with a WSManFault carrying `code`."""

    def __init__(self, code, message, subcode="w:InternalError"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode


class Request(object):
    """One parsed WSMan request: action name (Create, Command, ...), MessageID, ShellId, body element."""

    def __init__(self, xml_bytes):
        try:
            root = ET.fromstring(xml_bytes)
        except ET.ParseError as exc:
            raise WsmanFault(BAD_REQUEST, "The WS-Management request is not well-formed XML: %s" % exc)
        header = root.find("s:Header", NS)
        body = root.find("s:Body", NS)
        if header is None or body is None:
            raise WsmanFault(BAD_REQUEST, "The request is not a SOAP envelope with a Header and a Body.")
        self.action_uri = _text(header, "wsa:Action")
        self.message_id = _text(header, "wsa:MessageID")
        self.resource_uri = _text(header, "wsman:ResourceURI")
        self.timeout = _seconds(_text(header, "wsman:OperationTimeout"))
        self.shell_id = None
        for selector in header.findall("wsman:SelectorSet/wsman:Selector", NS):
            if selector.get("Name") == "ShellId":
                self.shell_id = (selector.text or "").strip().upper()
        self.body = body
        self.action = ACTIONS.get(self.action_uri)
        if self.action is None:
            raise WsmanFault(ACTION_NOT_SUPPORTED, "The WS-Management action %s is not supported by this host." % self.action_uri,
                             subcode="wsa:ActionNotSupported")

    def find(self, path):
        return self.body.find(path, NS)

    def creation_xml(self):
        """(shell id wanted by the client or None, the base64-decoded creationXml of a Create)."""
        shell = self.find("rsp:Shell")
        if shell is None:
            raise WsmanFault(BAD_REQUEST, "The Create request has no rsp:Shell.")
        creation = shell.find("pwsh:creationXml", NS)
        if creation is None or not creation.text:
            raise WsmanFault(BAD_REQUEST, "Only PowerShell runspace pools can be created here (no creationXml).")
        wanted = shell.get("ShellId")
        return (wanted.upper() if wanted else None), base64.b64decode(creation.text)

    def command(self):
        """(command id, first fragment bytes) of a Command request."""
        line = self.find("rsp:CommandLine")
        if line is None:
            raise WsmanFault(BAD_REQUEST, "The Command request has no rsp:CommandLine.")
        command_id = (line.get("CommandId") or str(uuid.uuid4())).upper()
        args = line.find("rsp:Arguments", NS)
        return command_id, base64.b64decode(args.text) if args is not None and args.text else b""

    def send(self):
        """(command id or None, bytes) of a Send request's stdin stream."""
        stream = self.find("rsp:Send/rsp:Stream")
        if stream is None:
            raise WsmanFault(BAD_REQUEST, "The Send request has no rsp:Stream.")
        command_id = stream.get("CommandId")
        return (command_id.upper() if command_id else None), base64.b64decode(stream.text or "")

    def receive(self):
        """The command id a Receive asks for, or None for the pool."""
        stream = self.find("rsp:Receive/rsp:DesiredStream")
        command_id = stream.get("CommandId") if stream is not None else None
        return command_id.upper() if command_id else None

    def signal(self):
        """(command id or None, signal code) of a Signal request."""
        signal = self.find("rsp:Signal")
        if signal is None:
            raise WsmanFault(BAD_REQUEST, "The Signal request has no rsp:Signal.")
        command_id = signal.get("CommandId")
        return (command_id.upper() if command_id else None), _text(signal, "rsp:Code")


def _text(element, path):
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None else None


def _seconds(duration):
    """PT20S / PT20.000S -> 20.0; None when absent or not understood."""
    if not duration or not duration.startswith("PT") or not duration.endswith("S"):
        return None
    try:
        return float(duration[2:-1])
    except ValueError:
        return None


def envelope(action, relates_to, body, endpoint, shell_id=None):
    """A response envelope (bytes)."""
    selector = ""
    if shell_id:
        selector = ('<wsman:SelectorSet><wsman:Selector Name="ShellId">%s</wsman:Selector></wsman:SelectorSet>' % escape(shell_id))
    xml = ('<s:Envelope xmlns:s="{s}" xmlns:wsa="{wsa}" xmlns:wsman="{wsman}" xmlns:wst="{wst}" xmlns:rsp="{rsp}" '
           'xmlns:wsmanfault="{wsmanfault}">'
           '<s:Header><wsa:Action>{action}</wsa:Action><wsa:MessageID>uuid:{mid}</wsa:MessageID>'
           '<wsa:RelatesTo>{rel}</wsa:RelatesTo><wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>'
           '{selector}</s:Header><s:Body>{body}</s:Body></s:Envelope>').format(
        action=escape(action), mid=str(uuid.uuid4()).upper(), rel=escape(relates_to or ""), selector=selector, body=body,
        **NS)
    return xml.encode("utf-8")


def response(req, body, endpoint, shell_id=None):
    return envelope(RESPONSE_ACTIONS[req.action], req.message_id, body, endpoint, shell_id)


def create_body(shell_id, endpoint, client_ip):
    return ('<wst:ResourceCreated><wsa:Address>{ep}</wsa:Address><wsa:ReferenceParameters>'
            '<wsman:ResourceURI>{uri}</wsman:ResourceURI><wsman:SelectorSet><wsman:Selector Name="ShellId">{sid}</wsman:Selector>'
            '</wsman:SelectorSet></wsa:ReferenceParameters></wst:ResourceCreated>'
            '<rsp:Shell><rsp:ShellId>{sid}</rsp:ShellId><rsp:ResourceUri>{uri}</rsp:ResourceUri><rsp:Owner>lab</rsp:Owner>'
            '<rsp:ClientIP>{ip}</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin pr</rsp:InputStreams>'
            '<rsp:OutputStreams>stdout</rsp:OutputStreams><rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>'
            '<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>').format(
        ep=escape(endpoint), uri=POWERSHELL_URI, sid=escape(shell_id), ip=escape(client_ip))


def command_body(command_id):
    return "<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>" % escape(command_id)


def receive_body(chunks, command_id=None, done=False):
    """A ReceiveResponse with one stdout Stream per chunk; CommandState Done once a pipeline ended."""
    attr = " CommandId=%s" % quoteattr(command_id) if command_id else ""
    streams = "".join("<rsp:Stream Name=\"stdout\"%s>%s</rsp:Stream>" % (attr, base64.b64encode(c).decode()) for c in chunks)
    state = ""
    if command_id:
        state = "<rsp:CommandState%s State=\"%s\"/>" % (attr, COMMAND_DONE if done else COMMAND_RUNNING)
    return "<rsp:ReceiveResponse>%s%s</rsp:ReceiveResponse>" % (streams, state)


def signal_body():
    return "<rsp:SignalResponse/>"


def send_body():
    return "<rsp:SendResponse/>"


def fault(req_message_id, fault_exc, machine="ips-lab-winhost"):
    """The SOAP fault envelope of a WsmanFault (answered with HTTP 500)."""
    body = ('<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{sub}</s:Value></s:Subcode></s:Code>'
            '<s:Reason><s:Text xml:lang="en-US">{msg}</s:Text></s:Reason><s:Detail>'
            '<wsmanfault:WSManFault Code="{code}" Machine="{machine}"><wsmanfault:Message>{msg}</wsmanfault:Message>'
            '</wsmanfault:WSManFault></s:Detail></s:Fault>').format(
        sub=escape(fault_exc.subcode), msg=escape(fault_exc.message), code=fault_exc.code, machine=escape(machine))
    return envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", req_message_id, body, None)
