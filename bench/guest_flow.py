"""The guest checkout flow under load, as bench/run measures it.

Each client, over and over: adds a digital listing (the next of PRODUCTS_FILE's ids, one per line:
many shoppers buying different files) to a new anonymous cart, places the order with
an e-mail, opens the Stripe Checkout session, pays on the simulator's hosted page, and waits until
the order is paid (the simulator's webhook has been applied). Prints one tab-separated line:
flows per second, p50 and p99 of a whole flow in milliseconds, and failed flows.

Usage: python3 bench/guest_flow.py BASE_URL PRODUCTS_FILE CLIENTS SECONDS
"""

import http.client
import itertools
import json
import sys
import threading
import time
import urllib.parse


def percentile(values, share):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Client:
    """One keep-alive connection per host, like a browser tab."""

    def __init__(self):
        self.connections = {}

    def request(self, method, url, body=None, headers=None, form=False):
        parts = urllib.parse.urlsplit(url)
        connection = self.connections.get(parts.netloc)
        if connection is None:
            connection = http.client.HTTPConnection(parts.netloc, timeout=30)
            self.connections[parts.netloc] = connection
        headers = dict(headers or {})
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
        path = parts.path + ("?" + parts.query if parts.query else "")
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            del self.connections[parts.netloc]
            raise
        return response.status, response.headers, payload


def flow(client, base, product):
    status, headers, body = client.request(
        "POST", f"{base}/api/v1/cart/items", {"product_id": product, "quantity": 1}
    )
    assert status == 200, body
    cart = headers["X-Cart-Token"]
    status, _, body = client.request(
        "POST",
        f"{base}/api/v1/orders",
        {"guest_email": "bench-guest@example.com"},
        {"X-Cart-Token": cart},
    )
    assert status == 201, body
    order = json.loads(body)
    token = {"X-Order-Token": order["access_token"]}
    status, _, body = client.request(
        "POST", f"{base}/api/v1/orders/{order['id']}/checkout", {}, token
    )
    assert status == 200, body
    checkout = json.loads(body)["checkout_url"]
    status, _, body = client.request("POST", f"{checkout}/pay", {"method": "card"}, form=True)
    assert status == 303, body
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, _, body = client.request("GET", f"{base}/api/v1/orders/{order['id']}", None, token)
        if status == 200 and json.loads(body)["status"] == "paid":
            return
        time.sleep(0.005)
    raise AssertionError("the order was not paid within 30 s")


def main():
    base, clients, seconds = sys.argv[1], int(sys.argv[3]), float(sys.argv[4])
    with open(sys.argv[2]) as listed:
        products = itertools.cycle([line.strip() for line in listed if line.strip()])
    durations, failures = [], []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run():
        client = Client()
        while time.monotonic() < stop_at:
            started = time.monotonic()
            with lock:
                product = next(products)
            try:
                flow(client, base, product)
            except Exception as error:  # a failed flow is counted, not fatal
                with lock:
                    failures.append(repr(error))
                continue
            with lock:
                durations.append((time.monotonic() - started) * 1000)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    print(
        f"{len(durations) / elapsed:.1f}\t{percentile(durations, 0.5):.1f}\t"
        f"{percentile(durations, 0.99):.1f}\t{len(failures)}"
    )
    if failures:
        print(f"first failure: {failures[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
