"""The GB/T 28181 SIP gateway: camera platforms and devices send MESSAGE requests with
MANSCDP XML (alarms, keepalives); normalised events go to `tuoyu.camera-alarms`."""
