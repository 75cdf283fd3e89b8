"""The lab's Windows host with Citrix.AppLayering: PowerShell Remoting (PSRP over WS-Management, HTTPS,
Basic and NTLM) in front of a modelled App Layering appliance whose tasks do real work on the lab's
Samba and Azure plane. docs/lab.md, section "Windows host (App Layering appliance) stand-in"."""
