console.log('proxy-server');
