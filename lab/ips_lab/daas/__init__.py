"""The DaaS REST stand-in (Citrix Cloud /cvad/manage), served by the Citrix Cloud stand-in's server."""
