"""Run one upload in this process and print a JSON line: the module's result plus peak RSS and CPU.
The benchmark runs it as a child so the figures are the uploader's alone."""

import json
import resource
import sys
import time


def main():
    spec = json.loads(sys.argv[1])
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.base import fingerprint, run_upload
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.options import open_disk

    src, image = open_disk(spec["source"])
    target = spec["target"]
    if target == "azure":
        from ansible_collections.citrix_community.ips.plugins.module_utils._upload.azure import AzureTarget as cls
    elif target == "aws":
        from ansible_collections.citrix_community.ips.plugins.module_utils._upload.aws import AwsTarget as cls
    else:
        from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import GcpTarget as cls
    t = cls(spec["options"], image, fingerprint(image.identity), timeout=120, concurrency=spec.get("concurrency") or cls.default_concurrency)
    start = time.monotonic()
    result = run_upload(t, overwrite="always", journal_dir=spec["journal_dir"], concurrency=spec.get("concurrency"))
    wall = time.monotonic() - start
    ru = resource.getrusage(resource.RUSAGE_SELF)
    result.update(wall=wall, peak_rss_mib=ru.ru_maxrss / 1024.0, cpu_s=ru.ru_utime + ru.ru_stime)
    print(json.dumps(dict((k, v) for k, v in result.items() if isinstance(v, (int, float, str, bool, type(None))))))
    src.close()


if __name__ == "__main__":
    main()
