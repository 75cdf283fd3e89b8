"""The real work lab jobs do on the stand-ins (an export writes a VHDX over SMB)."""
