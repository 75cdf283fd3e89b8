import os
import sys

# the module_utils tests' local HTTPS server (ips_https_server) lives one folder up
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
