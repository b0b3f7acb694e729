// DynamoDB Local listening on 127.0.0.1 only. Its own main (ServerRunner) binds every
// interface and has no option for the address, so this builds the server from the same
// command-line arguments (-inMemory, -sharedDb, -port ...), sets the host of its Jetty
// connector, and starts it. Telemetry is never configured, so nothing is sent anywhere.
// Run by scripts/test.sh as a single-file source program, DynamoDBLocal.jar on the class path:
//   java -Djava.library.path=<lib>/DynamoDBLocal_lib -cp <lib>/DynamoDBLocal.jar \
//     scripts/DynamoDBLocalLoopback.java -inMemory -sharedDb -port 8000
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDBLocalLoopback {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        // The Jetty server is a private field; the DynamoDB Local version is pinned by
        // package-lock.json, and a rename fails here, loudly, before anything listens.
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        for (Connector connector : server.getConnectors()) {
            ServerConnector http = (ServerConnector) connector;
            http.setHost("127.0.0.1");
            // Room for a burst of new connections (the contention tests open ~200 at once).
            http.setAcceptQueueSize(1024);
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on 127.0.0.1");
        proxy.join();
    }
}
